import type { Grant } from './grant.js';

/**
 * Told when a grant is revoked (by its user, by deleting its credential through the external
 * API, or because its app was deleted): outbound webhooks send `grant.revoked` from here.
 * Called once per revocation, after storage recorded it; a failure is logged by the caller and
 * does not undo the revocation. Bind one under this symbol; without one, nothing is told.
 */
export interface GrantEvents {
  revoked(grant: Grant): Promise<void>;
}
export const GrantEvents = Symbol.for('blockyard/GrantEvents');

/** Tells no one. */
export const noopGrantEvents: GrantEvents = { revoked: async () => {} };
