import type { Execution } from '../execution/execution.js';
import type { GrantRepository } from './grant.repository.port.js';
import { isGrantLive } from './grant.js';

/**
 * Why an app's execution may not use `credentialId` now, or null when it may: every grant of the
 * execution on that credential must exist and be live, and there must be one. Runners ask this
 * right before a run resolves its credential, so that a revocation committed before then keeps
 * the credential from the run. `grants` null: this process has no grant storage (refused).
 */
export async function executionGrantRefusal(grants: Pick<GrantRepository, 'get'> | null | undefined, execution: Execution, credentialId: string): Promise<string | null> {
  if (!grants) return `the grants of execution ${execution.id} cannot be checked on this worker (no grant storage)`;
  const ids = execution.grantIds ?? [];
  const found = await Promise.all(ids.map((id) => grants.get(id)));
  let covered = false;
  for (const [i, grant] of found.entries()) {
    if (!grant) return `grant ${ids[i]} no longer exists`;
    if (grant.credentialId !== credentialId) continue;
    if (!isGrantLive(grant)) return `grant ${grant.id} was revoked`;
    covered = true;
  }
  return covered ? null : `credential ${credentialId} is not covered by any grant of this execution`;
}
