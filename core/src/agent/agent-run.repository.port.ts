import type { AgentExecutionState, NodeRun, NodeRunStatus } from './agent-run.js';

/**
 * The runs of agent executions: one scheduler state per execution and one row per node run.
 * Every change to the state is a compare-and-set on its version that also writes the runs it
 * touched, in one transaction, so that concurrent workers finishing nodes of one execution take
 * turns and a crash never leaves half a step.
 */
export interface AgentRunRepository {
  getState(executionId: string): Promise<AgentExecutionState | null>;
  /**
   * Stores `state` (whose version is `expectedVersion + 1`) and upserts `runs`, when the stored
   * state's version is still `expectedVersion` (0: none stored yet). False, nothing changed,
   * when it moved.
   */
  commit(executionId: string, expectedVersion: number, state: AgentExecutionState, runs: readonly NodeRun[]): Promise<boolean>;
  getRun(id: string): Promise<NodeRun | null>;
  /** The execution's runs in creation order (seq). */
  listRuns(executionId: string): Promise<NodeRun[]>;
  /** Up to `limit` runs of the execution waiting in the backlog (dispatchedBy null, queued), by seq. */
  backlog(executionId: string, limit: number): Promise<NodeRun[]>;
  /**
   * Replaces the run when its status and token are still `expected` (compare-and-set: one
   * worker claims a queued run). False, nothing changed, otherwise.
   */
  updateRun(run: NodeRun, expected: { status: NodeRunStatus; token: string | null }): Promise<boolean>;
}
export const AgentRunRepository = Symbol.for('blockyard/AgentRunRepository');
