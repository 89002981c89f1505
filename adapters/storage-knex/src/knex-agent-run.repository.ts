import type { AgentExecutionState, AgentRunRepository, NodeRun, NodeRunStatus } from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface StateRow {
  execution_id: string;
  version: number;
  /** JSON object: the state without its version. */
  state: unknown;
  /** SQLite only: JSON array of the runs the writing statement upserts (a trigger moves them). */
  incoming_runs?: string | null;
}

interface NodeRunRow {
  id: string;
  execution_id: string;
  node_id: string;
  seq: number;
  status: NodeRunStatus;
  /** JSON object. */
  inputs: unknown;
  /** JSON object of arrays. */
  outputs: unknown;
  error: string | null;
  cost_usd: number;
  attempts: number;
  token: string | null;
  dispatched_by: string | null;
  propagated: number;
  created_at: DbDate;
  started_at: DbDate | null;
  completed_at: DbDate | null;
}

/** The columns of node_runs with their PostgreSQL types (to read them out of the JSON a commit binds). */
const POSTGRES_COLUMNS: ReadonlyArray<readonly [keyof NodeRunRow, string]> = [
  ['id', 'text'],
  ['execution_id', 'text'],
  ['node_id', 'text'],
  ['seq', 'integer'],
  ['status', 'text'],
  ['inputs', 'jsonb'],
  ['outputs', 'jsonb'],
  ['error', 'text'],
  ['cost_usd', 'double precision'],
  ['attempts', 'integer'],
  ['token', 'text'],
  ['dispatched_by', 'text'],
  ['propagated', 'integer'],
  ['created_at', 'timestamptz'],
  ['started_at', 'timestamptz'],
  ['completed_at', 'timestamptz'],
];

/**
 * PostgreSQL: a commit in one statement. `cas` is the compare-and-set of the state (returning a
 * row when it wrote one); the runs, one JSON array bound to one parameter (the same SQL for
 * every batch size, far from the bound-parameter limit), are upserted only when it did. The
 * statement returns the compare-and-set's row, so its row count is the answer.
 */
function postgresCommitSql(cas: string): string {
  const names = POSTGRES_COLUMNS.map(([name]) => name).join(', ');
  const types = POSTGRES_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');
  const updates = POSTGRES_COLUMNS.filter(([name]) => name !== 'id')
    .map(([name]) => `${name} = excluded.${name}`)
    .join(', ');
  return `WITH cas AS (${cas} RETURNING 1), upserted AS (
    INSERT INTO node_runs (${names}) SELECT ${names} FROM json_to_recordset(?::json) AS r(${types}) WHERE EXISTS (SELECT 1 FROM cas)
    ON CONFLICT (id) DO UPDATE SET ${updates}
  ) SELECT 1 FROM cas`;
}

const POSTGRES_FIRST_COMMIT = postgresCommitSql('INSERT INTO agent_execution_states (execution_id, version, state) VALUES (?, ?, ?) ON CONFLICT (execution_id) DO NOTHING');
const POSTGRES_NEXT_COMMIT = postgresCommitSql('UPDATE agent_execution_states SET version = ?, state = ? WHERE execution_id = ? AND version = ?');

/**
 * Agent execution states in `agent_execution_states` (a version column and the rest as JSON)
 * and node runs in `node_runs`. A commit is one statement: the compare-and-set of the state (an
 * insert that does nothing when a state exists, or an update on the expected version) that
 * also upserts the runs when, and only when, it wrote the row (see migration 0007: a trigger on
 * SQLite, a data-modifying WITH on PostgreSQL). One statement is atomic by itself and, on
 * SQLite, shares group commit's batches like any single write.
 */
export class KnexAgentRunRepository implements AgentRunRepository {
  constructor(
    /** Reads: on SQLite a separate pool, so reads never wait behind a committing write batch. */
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async getState(executionId: string): Promise<AgentExecutionState | null> {
    const row = await this.reads.first<StateRow>(this.reads.knex<StateRow>('agent_execution_states').select('version', 'state').where('execution_id', executionId));
    if (!row) return null;
    return { ...this.codec.readJson<Omit<AgentExecutionState, 'version'>>(row.state), version: Number(row.version) };
  }

  async commit(executionId: string, expectedVersion: number, state: AgentExecutionState, runs: readonly NodeRun[]): Promise<boolean> {
    const { version, ...rest } = state;
    const stateJson = this.codec.json(rest);
    const runsJson = runs.length > 0 ? JSON.stringify(this.#jsonRows(runs)) : null;
    const changed = await this.writes.runCounted((db) => {
      if (this.codec.dialect === 'postgres' && runsJson !== null) {
        return expectedVersion === 0
          ? db.raw(POSTGRES_FIRST_COMMIT, [executionId, version, stateJson, runsJson])
          : db.raw(POSTGRES_NEXT_COMMIT, [version, stateJson, executionId, expectedVersion, runsJson]);
      }
      const row: Partial<StateRow> = { version, state: stateJson };
      if (this.codec.dialect === 'sqlite') row.incoming_runs = runsJson;
      return expectedVersion === 0
        ? db<StateRow>('agent_execution_states').insert({ ...row, execution_id: executionId }).onConflict('execution_id').ignore()
        : db<StateRow>('agent_execution_states').where({ execution_id: executionId, version: expectedVersion }).update(row);
    });
    return changed > 0;
  }

  async getRun(id: string): Promise<NodeRun | null> {
    const row = await this.reads.first<NodeRunRow>(this.reads.knex<NodeRunRow>('node_runs').where('id', id));
    return row ? this.#toRun(row) : null;
  }

  async listRuns(executionId: string): Promise<NodeRun[]> {
    const rows = await this.reads.all<NodeRunRow>(
      this.reads
        .knex<NodeRunRow>('node_runs')
        .where('execution_id', executionId)
        .orderBy([{ column: 'seq' }, { column: 'id' }]),
    );
    return rows.map((row) => this.#toRun(row));
  }

  async backlog(executionId: string, limit: number): Promise<NodeRun[]> {
    if (limit <= 0) return [];
    const rows = await this.reads.all<NodeRunRow>(
      this.reads
        .knex<NodeRunRow>('node_runs')
        .where('execution_id', executionId)
        // Literal, as node_runs_backlog_index's predicate, so that the partial index applies.
        .whereRaw("dispatched_by IS NULL AND status = 'queued'")
        .orderBy('seq')
        .limit(Math.floor(limit)),
    );
    return rows.map((row) => this.#toRun(row));
  }

  async updateRun(run: NodeRun, expected: { status: NodeRunStatus; token: string | null }): Promise<boolean> {
    const { id: _id, ...changes } = this.#toRow(run);
    const changed = await this.writes.runStatement<number>((db) => {
      const query = db<NodeRunRow>('node_runs').where({ id: run.id, status: expected.status });
      if (expected.token === null) query.whereNull('token');
      else query.where('token', expected.token);
      return query.update(changes);
    });
    return changed > 0;
  }

  /**
   * The runs as a commit's upsert reads them, JSON columns nested, timestamps as the codec
   * stores them; one per id (the last wins, as separate upserts would). PostgreSQL: objects
   * keyed by column. SQLite: arrays of the values in migration 0007's column order.
   */
  #jsonRows(runs: readonly NodeRun[]): unknown[] {
    const { codec } = this;
    const rows = new Map<string, unknown>();
    for (const run of runs) {
      const createdAt = codec.date(run.createdAt);
      const startedAt = codec.nullableDate(run.startedAt);
      const completedAt = codec.nullableDate(run.completedAt);
      rows.set(
        run.id,
        codec.dialect === 'sqlite'
          ? [run.id, run.executionId, run.nodeId, run.seq, run.status, run.inputs, run.outputs, run.error, run.costUsd, run.attempts, run.token, run.dispatchedBy, run.propagated, createdAt, startedAt, completedAt]
          : {
              id: run.id,
              execution_id: run.executionId,
              node_id: run.nodeId,
              seq: run.seq,
              status: run.status,
              inputs: run.inputs,
              outputs: run.outputs,
              error: run.error,
              cost_usd: run.costUsd,
              attempts: run.attempts,
              token: run.token,
              dispatched_by: run.dispatchedBy,
              propagated: run.propagated,
              created_at: createdAt,
              started_at: startedAt,
              completed_at: completedAt,
            } satisfies Record<keyof NodeRunRow, unknown>,
      );
    }
    return [...rows.values()];
  }

  #toRow(run: NodeRun): NodeRunRow {
    const { codec } = this;
    return {
      id: run.id,
      execution_id: run.executionId,
      node_id: run.nodeId,
      seq: run.seq,
      status: run.status,
      inputs: codec.json(run.inputs),
      outputs: codec.json(run.outputs),
      error: run.error,
      cost_usd: run.costUsd,
      attempts: run.attempts,
      token: run.token,
      dispatched_by: run.dispatchedBy,
      propagated: run.propagated,
      created_at: codec.date(run.createdAt),
      started_at: codec.nullableDate(run.startedAt),
      completed_at: codec.nullableDate(run.completedAt),
    };
  }

  #toRun(row: NodeRunRow): NodeRun {
    const { codec } = this;
    return {
      id: row.id,
      executionId: row.execution_id,
      nodeId: row.node_id,
      seq: Number(row.seq),
      status: row.status,
      inputs: codec.readJson<Record<string, unknown>>(row.inputs),
      outputs: codec.readJson<Record<string, unknown[]>>(row.outputs),
      error: row.error,
      costUsd: Number(row.cost_usd),
      attempts: Number(row.attempts),
      token: row.token,
      dispatchedBy: row.dispatched_by,
      propagated: Number(row.propagated),
      createdAt: codec.readDate(row.created_at),
      startedAt: codec.readNullableDate(row.started_at),
      completedAt: codec.readNullableDate(row.completed_at),
    };
  }
}
