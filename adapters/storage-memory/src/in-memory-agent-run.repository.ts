import type { AgentExecutionState, AgentRunRepository, NodeRun, NodeRunStatus } from '@blockyard/core';

/**
 * Agent execution states and node runs in Maps. Each commit happens within one turn of the
 * event loop, so it is atomic. Stores and returns shallow copies: core treats states and runs
 * as immutable values (every change makes a new one), so nested values are shared, not cloned —
 * this is on the path of every node of every agent.
 */
export class InMemoryAgentRunRepository implements AgentRunRepository {
  readonly #states = new Map<string, AgentExecutionState>();
  readonly #runs = new Map<string, NodeRun>();
  /** Execution id -> its runs by id, in insertion order. */
  readonly #byExecution = new Map<string, Map<string, NodeRun>>();
  /**
   * Execution id -> its runs waiting in the backlog, in seq order (runs are created with
   * growing seq, and each commit stores its runs sorted by seq).
   */
  readonly #backlogs = new Map<string, Map<string, NodeRun>>();

  async getState(executionId: string): Promise<AgentExecutionState | null> {
    const state = this.#states.get(executionId);
    return state ? copy(state) : null;
  }

  async commit(executionId: string, expectedVersion: number, state: AgentExecutionState, runs: readonly NodeRun[]): Promise<boolean> {
    if ((this.#states.get(executionId)?.version ?? 0) !== expectedVersion) return false;
    this.#states.set(executionId, copy(state));
    for (const run of [...runs].sort((a, b) => a.seq - b.seq)) this.#store(copy(run));
    return true;
  }

  async getRun(id: string): Promise<NodeRun | null> {
    const run = this.#runs.get(id);
    return run ? copy(run) : null;
  }

  async listRuns(executionId: string): Promise<NodeRun[]> {
    return [...(this.#byExecution.get(executionId)?.values() ?? [])].sort((a, b) => a.seq - b.seq).map((run) => copy(run));
  }

  async backlog(executionId: string, limit: number): Promise<NodeRun[]> {
    const waiting: NodeRun[] = [];
    if (limit <= 0) return waiting;
    for (const run of this.#backlogs.get(executionId)?.values() ?? []) {
      waiting.push(copy(run));
      if (waiting.length >= limit) break;
    }
    return waiting;
  }

  async updateRun(run: NodeRun, expected: { status: NodeRunStatus; token: string | null }): Promise<boolean> {
    const stored = this.#runs.get(run.id);
    if (!stored || stored.status !== expected.status || stored.token !== expected.token) return false;
    this.#store(copy(run));
    return true;
  }

  #store(run: NodeRun): void {
    this.#runs.set(run.id, run);
    let runs = this.#byExecution.get(run.executionId);
    if (!runs) this.#byExecution.set(run.executionId, (runs = new Map()));
    runs.set(run.id, run);
    let backlog = this.#backlogs.get(run.executionId);
    if (run.dispatchedBy === null && run.status === 'queued') {
      if (!backlog) this.#backlogs.set(run.executionId, (backlog = new Map()));
      backlog.set(run.id, run);
    } else if (backlog?.delete(run.id) && backlog.size === 0) {
      this.#backlogs.delete(run.executionId);
    }
  }
}

function copy<T extends object>(value: T): T {
  return { ...value };
}
