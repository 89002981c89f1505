import type { ExternalExecution, ExternalExecutionRepository } from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { WriteRunner } from './write-runner.js';

interface ExternalExecutionRow {
  execution_id: string;
  client_id: string;
  user_id: string;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: DbDate;
}

/**
 * Apps' executions in `external_executions`; (client_id, user_id, idempotency_key) is unique
 * (NULL keys never collide), so a key is claimed by an INSERT ... ON CONFLICT DO NOTHING.
 */
export class KnexExternalExecutionRepository implements ExternalExecutionRepository {
  constructor(
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(record: ExternalExecution): Promise<ExternalExecution | null> {
    const row = this.toRow(record);
    if (record.idempotencyKey === null) {
      await this.writes.runStatement((db) => db<ExternalExecutionRow>('external_executions').insert(row)).catch((error: unknown) => this.conflict(error, record));
      return null;
    }
    const inserted = await this.writes
      .runCounted((db) => db<ExternalExecutionRow>('external_executions').insert(row).onConflict(['client_id', 'user_id', 'idempotency_key']).ignore())
      .catch((error: unknown) => this.conflict(error, record));
    if (inserted > 0) return null;
    const holder = await this.reads.first<ExternalExecutionRow>(
      this.reads.knex<ExternalExecutionRow>('external_executions').where({ client_id: record.clientId, user_id: record.userId, idempotency_key: record.idempotencyKey }),
    );
    // Deleted in between: the key is free again.
    return holder ? this.toRecord(holder) : this.create(record);
  }

  async get(executionId: string): Promise<ExternalExecution | null> {
    const row = await this.reads.first<ExternalExecutionRow>(this.reads.knex<ExternalExecutionRow>('external_executions').where('execution_id', executionId));
    return row ? this.toRecord(row) : null;
  }

  async replace(expectedExecutionId: string, record: ExternalExecution): Promise<boolean> {
    const row = this.toRow(record);
    const changed = await this.writes.runCounted((db) => db<ExternalExecutionRow>('external_executions').where('execution_id', expectedExecutionId).update(row));
    return changed > 0;
  }

  async delete(executionId: string): Promise<boolean> {
    return (await this.writes.runCounted((db) => db<ExternalExecutionRow>('external_executions').where('execution_id', executionId).delete())) > 0;
  }

  private conflict(error: unknown, record: ExternalExecution): never {
    return rethrowUniqueViolation(error, () => `execution ${record.executionId} is already recorded`);
  }

  private toRow(record: ExternalExecution): ExternalExecutionRow {
    return {
      execution_id: record.executionId,
      client_id: record.clientId,
      user_id: record.userId,
      idempotency_key: record.idempotencyKey,
      request_hash: record.requestHash,
      created_at: this.codec.date(record.createdAt),
    };
  }

  private toRecord(row: ExternalExecutionRow): ExternalExecution {
    return {
      executionId: row.execution_id,
      clientId: row.client_id,
      userId: row.user_id,
      idempotencyKey: row.idempotency_key,
      requestHash: row.request_hash,
      createdAt: this.codec.readDate(row.created_at),
    };
  }
}
