import { ConflictError, type Execution, type ExecutionRepository, type ExecutionStatus } from '@blockyard/core';
import { copyValue } from './copy-value.js';

/** Executions in a Map. Stores and returns copies; `update` is a compare-and-set on status. */
export class InMemoryExecutionRepository implements ExecutionRepository {
  private readonly byId = new Map<string, Execution>();

  async create(execution: Execution): Promise<void> {
    if (this.byId.has(execution.id)) throw new ConflictError(`execution ${execution.id} already exists`);
    this.byId.set(execution.id, copyValue(execution));
  }

  async get(id: string): Promise<Execution | null> {
    const execution = this.byId.get(id);
    return execution ? copyValue(execution) : null;
  }

  async update(execution: Execution, expectedStatus: ExecutionStatus): Promise<boolean> {
    const stored = this.byId.get(execution.id);
    if (!stored || stored.status !== expectedStatus) return false;
    this.byId.set(execution.id, copyValue(execution));
    return true;
  }

  async listByStatus(statuses: readonly ExecutionStatus[], limit: number): Promise<Execution[]> {
    if (limit <= 0 || statuses.length === 0) return [];
    return [...this.byId.values()]
      .filter((execution) => statuses.includes(execution.status))
      .sort(oldestFirst)
      .slice(0, limit)
      .map((execution) => copyValue(execution));
  }

  async listActiveByGrant(grantId: string, limit: number): Promise<Execution[]> {
    if (limit <= 0) return [];
    return [...this.byId.values()]
      .filter((execution) => (execution.status === 'queued' || execution.status === 'running') && execution.grantIds?.includes(grantId))
      .sort(oldestFirst)
      .slice(0, limit)
      .map((execution) => copyValue(execution));
  }
}

function oldestFirst(a: Execution, b: Execution): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
