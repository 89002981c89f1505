import type { Credential } from './credential.js';

/**
 * Told after a user's credential was deleted (grants built on it are revoked here). Bind any
 * number; a hook's failure does not undo or fail the delete.
 */
export interface CredentialDeletionHook {
  credentialDeleted(credential: Credential): Promise<void>;
}
export const CredentialDeletionHook = Symbol.for('blockyard/CredentialDeletionHook');
