import type { AgentExecutionState, AgentRunRepository, NodeRun, NodeRunStatus } from '@blockyard/core';

/**
 * Agent execution states and node runs in Maps. Each commit happens within one turn of the
 * event loop, so it is atomic. Stores and returns copies.
 */
export class InMemoryAgentRunRepository implements AgentRunRepository {
  readonly #states = new Map<string, AgentExecutionState>();
  readonly #runs = new Map<string, NodeRun>();
  /** Execution id -> its runs by id, in insertion order. */
  readonly #byExecution = new Map<string, Map<string, NodeRun>>();

  async getState(executionId: string): Promise<AgentExecutionState | null> {
    const state = this.#states.get(executionId);
    return state ? structuredClone(state) : null;
  }

  async commit(executionId: string, expectedVersion: number, state: AgentExecutionState, runs: readonly NodeRun[]): Promise<boolean> {
    if ((this.#states.get(executionId)?.version ?? 0) !== expectedVersion) return false;
    this.#states.set(executionId, structuredClone(state));
    for (const run of runs) this.#store(structuredClone(run));
    return true;
  }

  async getRun(id: string): Promise<NodeRun | null> {
    const run = this.#runs.get(id);
    return run ? structuredClone(run) : null;
  }

  async listRuns(executionId: string): Promise<NodeRun[]> {
    return [...(this.#byExecution.get(executionId)?.values() ?? [])].sort((a, b) => a.seq - b.seq).map((run) => structuredClone(run));
  }

  async backlog(executionId: string, limit: number): Promise<NodeRun[]> {
    const waiting: NodeRun[] = [];
    for (const run of this.#byExecution.get(executionId)?.values() ?? []) {
      if (run.dispatchedBy === null && run.status === 'queued') waiting.push(run);
    }
    return waiting.sort((a, b) => a.seq - b.seq).slice(0, Math.max(0, limit)).map((run) => structuredClone(run));
  }

  async updateRun(run: NodeRun, expected: { status: NodeRunStatus; token: string | null }): Promise<boolean> {
    const stored = this.#runs.get(run.id);
    if (!stored || stored.status !== expected.status || stored.token !== expected.token) return false;
    this.#store(structuredClone(run));
    return true;
  }

  #store(run: NodeRun): void {
    this.#runs.set(run.id, run);
    let runs = this.#byExecution.get(run.executionId);
    if (!runs) this.#byExecution.set(run.executionId, (runs = new Map()));
    runs.set(run.id, run);
  }
}
