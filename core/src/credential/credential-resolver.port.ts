import type { CredentialRequirement } from '@blockyard/contracts';
import type { ResolvedCredential } from '../block/block.js';

/** Finds the secret a run may use for its block's credential requirement. */
export interface CredentialResolver {
  /**
   * The credential for this run: the one named by `credentialId` (the caller's own), or the
   * provider's system credential. NotFoundError / PermissionError when there is none usable.
   */
  resolve(request: CredentialRequest): Promise<ResolvedCredential>;
  /**
   * The same checks as resolve() (owner, provider, kind, status, scopes), without decrypting or
   * refreshing anything: whether a run accepted now could use this credential.
   */
  check(request: CredentialRequest): Promise<void>;
}

export interface CredentialRequest {
  userId: string;
  requirement: CredentialRequirement;
  credentialId?: string;
}
export const CredentialResolver = Symbol.for('blockyard/CredentialResolver');
