import type { Execution, ExecutionStatus } from './execution.js';

export interface ExecutionRepository {
  /** Stores a new execution; a duplicate id is a ConflictError. */
  create(execution: Execution): Promise<void>;
  get(id: string): Promise<Execution | null>;
  /**
   * Replaces the stored execution only if its status is still `expectedStatus`
   * (compare-and-set). Returns false, changing nothing, when it is not.
   */
  update(execution: Execution, expectedStatus: ExecutionStatus): Promise<boolean>;
  /** Executions in any of these statuses, oldest first. */
  listByStatus(statuses: readonly ExecutionStatus[], limit: number): Promise<Execution[]>;
  /** The queued and running executions whose `grantIds` include `grantId`, oldest first. */
  listActiveByGrant(grantId: string, limit: number): Promise<Execution[]>;
}
export const ExecutionRepository = Symbol.for('blockyard/ExecutionRepository');
