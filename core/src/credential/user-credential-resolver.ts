import type { ResolvedCredential } from '../block/block.js';
import { NotFoundError, PermissionError } from '../errors/domain.errors.js';
import type { Clock } from '../system/clock.port.js';
import type { CredentialCache } from './credential-cache.js';
import { openCredentialSecret } from './credential-secret.js';
import type { CredentialRepository } from './credential.repository.port.js';
import type { Credential } from './credential.js';
import type { CredentialRequest, CredentialResolver } from './credential-resolver.port.js';
import type { SecretCipher } from './secret-cipher.port.js';

/**
 * Resolves a run's credential: the caller's own credential when the run names one (checked for
 * owner, provider, kind, status and scopes), else the provider's system credential.
 */
export class UserCredentialResolver implements CredentialResolver {
  constructor(
    private readonly deps: {
      credentials: CredentialRepository;
      cipher: SecretCipher;
      /** System credentials, used when the run names no credential. */
      fallback: CredentialResolver;
      clock: Clock;
      /** Refreshes an oauth2 credential about to expire (single-flight); absent: used as stored. */
      refresher?: { ensureFresh(credential: Credential): Promise<Credential> };
      /** Recently read rows (sealed), so that a credential used again soon is not read again. */
      cache?: CredentialCache;
    },
  ) {}

  async check(request: CredentialRequest): Promise<void> {
    if (!request.credentialId) return this.deps.fallback.check(request);
    await this.#usable(request, request.credentialId);
  }

  async resolve(request: CredentialRequest): Promise<ResolvedCredential> {
    const { credentialId } = request;
    if (!credentialId) return this.deps.fallback.resolve(request);
    let credential = await this.#usable(request, credentialId);
    if (credential.kind === 'oauth2' && this.deps.refresher) credential = await this.deps.refresher.ensureFresh(credential);
    const secret = openCredentialSecret(this.deps.cipher, credential);
    // A run sees what it needs to call the provider; a refresh token stays with the platform.
    if (secret.kind === 'oauth2') return { kind: 'oauth2', access_token: secret.access_token, scopes: secret.scopes };
    return secret;
  }

  /** The caller's credential, if it fits the requirement; NotFoundError / PermissionError if not. */
  async #usable({ userId, requirement }: CredentialRequest, credentialId: string): Promise<Credential> {
    const credential = await this.#get(credentialId);
    if (!credential || credential.userId !== userId) throw new NotFoundError(`credential ${credentialId} not found`);
    if (credential.provider !== requirement.provider) {
      throw new PermissionError(`credential ${credentialId} is for ${credential.provider}; this block needs a ${requirement.provider} credential`);
    }
    if (!requirement.kinds.includes(credential.kind)) {
      throw new PermissionError(`credential ${credentialId} is ${credential.kind}; this block takes ${requirement.kinds.join(' or ')}`);
    }
    if (credential.status !== 'active') throw new PermissionError(`credential ${credentialId} is ${credential.status}: connect it again`);
    const held = credential.scopes;
    const missing = (requirement.scopes ?? []).filter((s) => !held.includes(s));
    if (missing.length) throw new PermissionError(`credential ${credentialId} lacks the scope(s) ${missing.join(', ')}`);
    if (credential.expiresAt && credential.expiresAt.getTime() <= this.deps.clock.now().getTime() && credential.kind !== 'oauth2') {
      throw new PermissionError(`credential ${credentialId} expired at ${credential.expiresAt.toISOString()}`);
    }
    return credential;
  }

  async #get(id: string): Promise<Credential | null> {
    const { cache, clock, credentials } = this.deps;
    if (!cache?.enabled) return credentials.get(id);
    const now = clock.now().getTime();
    const cached = cache.get(id, now);
    if (cached) return cached;
    const generation = cache.generation;
    const credential = await credentials.get(id);
    if (credential) cache.set(credential, now, generation);
    return credential;
  }
}
