import { ConflictError, type ExternalExecution, type ExternalExecutionRepository } from '@blockyard/core';

/** Records of apps' executions in Maps (by execution id, and by client, user and idempotency key). Stores and returns copies. */
export class InMemoryExternalExecutionRepository implements ExternalExecutionRepository {
  private readonly byId = new Map<string, ExternalExecution>();
  private readonly byKey = new Map<string, string>();

  async create(record: ExternalExecution): Promise<ExternalExecution | null> {
    const key = keyOf(record);
    const holder = key === null ? undefined : this.byKey.get(key);
    if (holder !== undefined) return structuredClone(this.byId.get(holder)!);
    if (this.byId.has(record.executionId)) throw new ConflictError(`execution ${record.executionId} is already recorded`);
    this.byId.set(record.executionId, structuredClone(record));
    if (key !== null) this.byKey.set(key, record.executionId);
    return null;
  }

  async get(executionId: string): Promise<ExternalExecution | null> {
    const record = this.byId.get(executionId);
    return record ? structuredClone(record) : null;
  }

  async replace(expectedExecutionId: string, record: ExternalExecution): Promise<boolean> {
    const current = this.byId.get(expectedExecutionId);
    if (!current) return false;
    this.remove(current);
    this.byId.set(record.executionId, structuredClone(record));
    const key = keyOf(record);
    if (key !== null) this.byKey.set(key, record.executionId);
    return true;
  }

  async delete(executionId: string): Promise<boolean> {
    const current = this.byId.get(executionId);
    if (!current) return false;
    this.remove(current);
    return true;
  }

  private remove(record: ExternalExecution): void {
    this.byId.delete(record.executionId);
    const key = keyOf(record);
    if (key !== null && this.byKey.get(key) === record.executionId) this.byKey.delete(key);
  }
}

function keyOf(record: ExternalExecution): string | null {
  return record.idempotencyKey === null ? null : JSON.stringify([record.clientId, record.userId, record.idempotencyKey]);
}
