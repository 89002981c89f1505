import type { Grant } from './grant.js';

/** Credential grants. Every adapter passes the shared contract (`grantRepositoryContract` in @blockyard/core/testing). */
export interface GrantRepository {
  /** Stores a new grant; a duplicate id is a ConflictError. */
  create(grant: Grant): Promise<void>;
  get(id: string): Promise<Grant | null>;
  /** The user's grants (live and revoked), oldest first. */
  listByUser(userId: string): Promise<Grant[]>;
  /** The user's grants to one client (live and revoked), oldest first. */
  listByUserAndClient(userId: string, clientId: string): Promise<Grant[]>;
  /**
   * Revokes the grant at `at`, atomically: answers it as revoked when this call revoked it, null
   * when it is unknown or was revoked already (of concurrent revokers exactly one gets it).
   */
  revoke(id: string, at: Date): Promise<Grant | null>;
  /** Revokes every live grant of the client; answers those this call revoked. */
  revokeByClient(clientId: string, at: Date): Promise<Grant[]>;
  /** Revokes every live grant of the credential (any client); answers those this call revoked. */
  revokeByCredential(credentialId: string, at: Date): Promise<Grant[]>;
  /** Sets `lastUsedAt` to `at` on the grants whose `lastUsedAt` is null or earlier. */
  markUsed(ids: readonly string[], at: Date): Promise<void>;
}
export const GrantRepository = Symbol.for('blockyard/GrantRepository');
