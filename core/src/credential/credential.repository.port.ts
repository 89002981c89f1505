import type { Credential } from './credential.js';

export interface CredentialRepository {
  /** Stores a new credential; a duplicate id is a ConflictError. */
  create(credential: Credential): Promise<void>;
  get(id: string): Promise<Credential | null>;
  /** The user's credentials, oldest first. */
  listByUser(userId: string): Promise<Credential[]>;
  /**
   * Replaces the stored credential when its `updatedAt` still equals `expectedUpdatedAt`
   * (compare-and-set for token refresh and key rotation); false, and nothing changed, otherwise.
   */
  update(credential: Credential, expectedUpdatedAt: Date): Promise<boolean>;
  /** False when there is no such credential. */
  delete(id: string): Promise<boolean>;
  /** Up to `limit` credentials with ids after `afterId` (null: from the first), ordered by id. */
  listAll(afterId: string | null, limit: number): Promise<Credential[]>;
}
export const CredentialRepository = Symbol.for('blockyard/CredentialRepository');
