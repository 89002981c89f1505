import type { Execution, ExecutionRepository, ExecutionStatus } from '@blockyard/core';
import type { Knex } from 'knex';
import type { DbDate, RowCodec } from './row-codec.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface ExecutionRow {
  id: string;
  user_id: string;
  /** '' for an agent execution. */
  block_id: string;
  /** The agent an agent execution runs, and its version; null for a block execution. */
  agent_id: string | null;
  agent_version: number | null;
  /** JSON array of the grant ids an app's execution goes through; null for the user's own. */
  grant_ids: unknown;
  status: ExecutionStatus;
  /** JSON object. */
  inputs: unknown;
  /** JSON object of arrays. */
  outputs: unknown;
  error: string | null;
  cost_usd: number;
  attempts: number;
  created_at: DbDate;
  started_at: DbDate | null;
  completed_at: DbDate | null;
}

/**
 * Executions in the `executions` table (an agent execution's agent in agent_id and
 * agent_version); `update` is a compare-and-set on `status`.
 */
export class KnexExecutionRepository implements ExecutionRepository {
  constructor(
    /** Reads: on SQLite a separate pool, so reads never wait behind a committing write batch. */
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(execution: Execution): Promise<void> {
    const row = this.toRow(execution);
    await this.writes
      .runStatement((db) => db<ExecutionRow>('executions').insert(row))
      .catch((error: unknown) => rethrowUniqueViolation(error, () => `execution ${execution.id} already exists`));
  }

  async get(id: string): Promise<Execution | null> {
    const row = await this.reads.first<ExecutionRow>(this.reads.knex<ExecutionRow>('executions').where('id', id));
    return row ? this.toExecution(row) : null;
  }

  async update(execution: Execution, expectedStatus: ExecutionStatus): Promise<boolean> {
    const { id: _id, ...changes } = this.toRow(execution);
    const changed = await this.writes.runStatement<number>((db) =>
      db<ExecutionRow>('executions').where({ id: execution.id, status: expectedStatus }).update(changes),
    );
    return changed > 0;
  }

  async listByStatus(statuses: readonly ExecutionStatus[], limit: number): Promise<Execution[]> {
    if (limit <= 0 || statuses.length === 0) return [];
    const rows = await this.reads.all<ExecutionRow>(this.reads.knex<ExecutionRow>('executions')
      .whereIn('status', [...statuses])
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .limit(limit));
    return rows.map((row) => this.toExecution(row));
  }

  async listActiveByGrant(grantId: string, limit: number): Promise<Execution[]> {
    if (limit <= 0) return [];
    // Among the active executions (the status index), those whose JSON array holds the id.
    const [holds, binding] =
      this.codec.dialect === 'sqlite'
        ? ['exists (select 1 from json_each(executions.grant_ids) where json_each.value = ?)', grantId]
        : ['executions.grant_ids @> ?::jsonb', JSON.stringify([grantId])];
    const rows = await this.reads.all<ExecutionRow>(this.reads.knex<ExecutionRow>('executions')
      .whereIn('status', ['queued', 'running'])
      .whereNotNull('grant_ids')
      .whereRaw(holds, [binding])
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .limit(limit));
    return rows.map((row) => this.toExecution(row));
  }

  private toRow(execution: Execution): ExecutionRow {
    const { codec } = this;
    return {
      id: execution.id,
      user_id: execution.userId,
      block_id: execution.blockId,
      agent_id: execution.agent?.id ?? null,
      agent_version: execution.agent?.version ?? null,
      grant_ids: execution.grantIds ? codec.json(execution.grantIds) : null,
      status: execution.status,
      inputs: codec.json(execution.inputs),
      outputs: codec.json(execution.outputs),
      error: execution.error,
      cost_usd: execution.costUsd,
      attempts: execution.attempts,
      created_at: codec.date(execution.createdAt),
      started_at: codec.nullableDate(execution.startedAt),
      completed_at: codec.nullableDate(execution.completedAt),
    };
  }

  private toExecution(row: ExecutionRow): Execution {
    const { codec } = this;
    return {
      id: row.id,
      userId: row.user_id,
      blockId: row.block_id,
      ...(row.agent_id === null ? {} : { agent: { id: row.agent_id, version: Number(row.agent_version) } }),
      ...(row.grant_ids === null || row.grant_ids === undefined ? {} : { grantIds: codec.readJson<string[]>(row.grant_ids) }),
      status: row.status,
      inputs: codec.readJson<Record<string, unknown>>(row.inputs),
      outputs: codec.readJson<Record<string, unknown[]>>(row.outputs),
      error: row.error,
      costUsd: Number(row.cost_usd),
      attempts: Number(row.attempts),
      createdAt: codec.readDate(row.created_at),
      startedAt: codec.readNullableDate(row.started_at),
      completedAt: codec.readNullableDate(row.completed_at),
    };
  }
}
