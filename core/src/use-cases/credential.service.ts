import { ConflictError, NotFoundError, PermissionError, ValidationError } from '../errors/domain.errors.js';
import type { CredentialDeletionHook } from '../credential/credential-deletion-hook.js';
import type { Credential, CredentialKind } from '../credential/credential.js';
import { credentialFromFields, sealCredentialSecret } from '../credential/credential-secret.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import type { SecretCipher } from '../credential/secret-cipher.port.js';
import type { SystemCredentialResolver } from '../credential/system-credential-resolver.js';
import type { ProviderRegistry } from '../provider/provider-registry.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';

/** A credential as callers see it: never its secret. */
export interface CredentialView {
  id: string;
  provider: string;
  kind: CredentialKind;
  title: string;
  scopes: string[];
  expiresAt: Date | null;
  status: Credential['status'];
  /** From the server's configuration: usable by runs, not readable, not deletable. */
  system: boolean;
  createdAt: Date | null;
}

export interface CreateCredentialInput {
  provider: string;
  kind: CredentialKind;
  title?: string;
  scopes?: string[];
  expiresAt?: Date | null;
  secret: Record<string, unknown>;
}

/** What deleting a credential did. */
export interface CredentialDeletion {
  id: string;
  /** Always true: the local delete happens whatever the provider says. */
  deleted: true;
  /**
   * Whether the provider revoked it: true, false (the revoke failed; `detail` says how), or
   * null when there was nothing to revoke (not oauth2, or the provider has no revoke endpoint).
   */
  revoked: boolean | null;
  /** Why the revoke failed; never a secret. */
  detail?: string;
}

const AUTH_TYPE_OF_KIND: Record<CredentialKind, string> = { api_key: 'api_key', oauth2: 'oauth2', user_password: 'user_password', host_scoped: 'host_scoped' };
const SYSTEM_PREFIX = 'system:';

/** Users' credentials: create (sealed at once), list (metadata only), delete. */
export class CredentialService {
  constructor(
    private readonly deps: {
      credentials: CredentialRepository;
      cipher: SecretCipher;
      providers: ProviderRegistry;
      system: SystemCredentialResolver;
      clock: Clock;
      ids: IdGenerator;
      /** Revokes an oauth2 credential at its provider before it is deleted (failures reported, not fatal). */
      revoker?: { revoke(credential: Credential): Promise<{ attempted: boolean; error?: string }> };
      /** Told after each delete (looked up on use: the grants that listen depend on this service). */
      deletionHooks?: () => readonly CredentialDeletionHook[];
    },
  ) {}

  async createCredential(userId: string, input: CreateCredentialInput): Promise<CredentialView> {
    const provider = this.deps.providers.get(input.provider);
    if (!provider) throw new ValidationError(`unknown provider ${input.provider}`, [{ path: '/provider', message: 'is not a provider of a loaded plugin' }]);
    if (!provider.definition.auth.some((m) => m.type === AUTH_TYPE_OF_KIND[input.kind])) {
      const kinds = provider.definition.auth.map((m) => m.type).join(', ') || 'none';
      throw new ValidationError(`provider ${input.provider} does not take ${input.kind} credentials (it takes ${kinds})`, [{ path: '/kind', message: 'is not an auth method of the provider' }]);
    }
    const known = Object.keys(provider.definition.integration_scopes ?? {});
    const scopes = [...new Set(input.scopes ?? known)];
    const unknown = scopes.filter((s) => !known.includes(s));
    if (unknown.length) throw new ValidationError(`unknown scope(s) of ${input.provider}: ${unknown.join(', ')}`, [{ path: '/scopes', message: `must be among ${known.join(', ') || 'none'}` }]);
    const secret = credentialFromFields(input.kind, input.secret);
    const now = this.deps.clock.now();
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) throw new ValidationError('expires_at must be in the future', [{ path: '/expires_at', message: 'is in the past' }]);
    const id = this.deps.ids.next();
    const credential: Credential = {
      id,
      userId,
      provider: input.provider,
      kind: input.kind,
      title: (input.title ?? '').trim() || `${provider.definition.display_name} ${input.kind.replace('_', ' ')}`,
      scopes,
      status: 'active',
      expiresAt: input.expiresAt ?? null,
      secret: sealCredentialSecret(this.deps.cipher, id, secret),
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.credentials.create(credential);
    return viewOf(credential);
  }

  /** The user's credentials and the system ones, metadata only. */
  async listCredentials(userId: string): Promise<CredentialView[]> {
    const own = (await this.deps.credentials.listByUser(userId)).map(viewOf);
    const system = this.deps.system.providers.map((name): CredentialView => {
      const declared = this.deps.providers.get(name)?.definition;
      return {
        id: `${SYSTEM_PREFIX}${name}`,
        provider: name,
        kind: declared?.default_credential?.kind ?? 'api_key',
        title: declared?.default_credential?.title ?? `${declared?.display_name ?? name} (system)`,
        scopes: Object.keys(declared?.integration_scopes ?? {}),
        expiresAt: null,
        status: 'active',
        system: true,
        createdAt: null,
      };
    });
    return [...own, ...system];
  }

  /**
   * Deletes one of the user's credentials; system credentials cannot be deleted. An oauth2
   * credential is revoked at its provider first when the provider declares a revoke endpoint;
   * a failed revoke is reported in the outcome (`revoked: false` and a detail) and the local
   * delete happens all the same.
   */
  async deleteCredential(userId: string, id: string): Promise<CredentialDeletion> {
    if (id.startsWith(SYSTEM_PREFIX) && this.deps.system.providers.includes(id.slice(SYSTEM_PREFIX.length))) {
      throw new PermissionError('system credentials come from the server configuration and cannot be deleted');
    }
    const credential = await this.deps.credentials.get(id);
    if (!credential || credential.userId !== userId) throw new NotFoundError(`credential ${id} not found`);
    const outcome = await this.#revoke(credential);
    if (!(await this.deps.credentials.delete(id))) throw new ConflictError(`credential ${id} was deleted meanwhile`);
    for (const hook of this.deps.deletionHooks?.() ?? []) {
      // Deleted already: a listener's failure is its own to log, not the caller's.
      await hook.credentialDeleted(credential).catch(() => undefined);
    }
    return { id, deleted: true, ...outcome };
  }

  async #revoke(credential: Credential): Promise<Pick<CredentialDeletion, 'revoked' | 'detail'>> {
    const { revoker } = this.deps;
    if (credential.kind !== 'oauth2' || !revoker) return { revoked: null };
    let result: { attempted: boolean; error?: string };
    try {
      result = await revoker.revoke(credential);
    } catch {
      // An unexpected failure's message is not ours to pass on (it might quote a request).
      result = { attempted: true, error: `${credential.provider} revoke failed` };
    }
    if (!result.attempted) return { revoked: null };
    if (result.error === undefined) return { revoked: true };
    return { revoked: false, detail: `${result.error}; the credential was deleted here all the same: revoke its access at ${credential.provider} yourself` };
  }
}

function viewOf(c: Credential): CredentialView {
  return { id: c.id, provider: c.provider, kind: c.kind, title: c.title, scopes: [...c.scopes], expiresAt: c.expiresAt, status: c.status, system: false, createdAt: c.createdAt };
}
