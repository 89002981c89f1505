import type { ResolvedCredential } from '../block/block.js';
import { NotFoundError, PermissionError, ValidationError } from '../errors/domain.errors.js';
import type { CredentialRequest, CredentialResolver } from './credential-resolver.port.js';

/**
 * System credentials only: one per provider, from the server's configuration (a provider's
 * `default_credential` env var). Usable by every run, never readable. User-owned credentials
 * come with the credential store.
 */
export class SystemCredentialResolver implements CredentialResolver {
  readonly #credentials: Map<string, ResolvedCredential>;

  constructor(credentials: ReadonlyMap<string, ResolvedCredential> = new Map()) {
    this.#credentials = new Map(credentials);
  }

  /** Sets the system credential of a provider (the composition root does, from its config). */
  set(provider: string, credential: ResolvedCredential): void {
    this.#credentials.set(provider, credential);
  }

  async check(request: CredentialRequest): Promise<void> {
    await this.resolve(request);
  }

  async resolve({ requirement, credentialId }: CredentialRequest): Promise<ResolvedCredential> {
    if (credentialId) throw new NotFoundError(`credential ${credentialId} not found`);
    const credential = this.#credentials.get(requirement.provider);
    if (!credential) {
      throw new ValidationError(`this block needs a ${requirement.provider} credential: name one of yours in inputs.credentials, or configure the provider's system credential`, [
        { path: '/inputs/credentials', message: 'is required' },
      ]);
    }
    if (!requirement.kinds.includes(credential.kind)) {
      throw new PermissionError(`the ${requirement.provider} system credential is ${credential.kind}; this block takes ${requirement.kinds.join(' or ')}`);
    }
    return credential;
  }

  /** Parses an environment value into a credential of `kind` (user_password as `user:password`). */
  static fromEnvValue(kind: ResolvedCredential['kind'], value: string): ResolvedCredential | null {
    switch (kind) {
      case 'api_key':
        return { kind, api_key: value };
      case 'oauth2':
        return { kind, access_token: value, scopes: [] };
      case 'user_password': {
        const i = value.indexOf(':');
        return i > 0 ? { kind, username: value.slice(0, i), password: value.slice(i + 1) } : null;
      }
      default:
        return null;
    }
  }

  /** Providers that have a system credential. */
  get providers(): string[] {
    return [...this.#credentials.keys()];
  }
}
