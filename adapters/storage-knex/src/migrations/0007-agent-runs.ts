import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { jsonColumn, timestampColumn, type StorageMigration } from './storage-migration.js';

/** The columns of node_runs, in the order a commit's JSON rows list them on SQLite. */
const NODE_RUN_COLUMNS = [
  'id', 'execution_id', 'node_id', 'seq', 'status', 'inputs', 'outputs', 'error', 'cost_usd',
  'attempts', 'token', 'dispatched_by', 'propagated', 'created_at', 'started_at', 'completed_at',
] as const;

/**
 * SQLite: the body of the triggers that move the runs a commit carries in
 * agent_execution_states.incoming_runs into node_runs, then clear it. incoming_runs is a JSON
 * array of rows, each an array of the NODE_RUN_COLUMNS values in order (positions read about
 * twice as fast as keys), JSON columns nested as JSON. `->>` answers a nested object as its
 * JSON text; `WHERE true` tells the parser that ON CONFLICT belongs to the INSERT.
 */
const MOVE_INCOMING_RUNS = `
  INSERT INTO node_runs (${NODE_RUN_COLUMNS.join(', ')})
    SELECT ${NODE_RUN_COLUMNS.map((_, i) => `value ->> ${i}`).join(', ')} FROM json_each(NEW.incoming_runs) WHERE true
    ON CONFLICT (id) DO UPDATE SET ${NODE_RUN_COLUMNS.filter((name) => name !== 'id').map((name) => `${name} = excluded.${name}`).join(', ')};
  UPDATE agent_execution_states SET incoming_runs = NULL WHERE rowid = NEW.rowid;`;

/**
 * agent_execution_states (the scheduler state of each agent execution, compare-and-set on
 * version), node_runs (one row per run of a node) and the agent an execution runs
 * (executions.agent_id, agent_version; null for a block execution).
 *
 * A commit is one statement, so that it is atomic and, on SQLite, batches like any single
 * write: there the compare-and-set of the state carries the runs in `incoming_runs` and a
 * trigger upserts them (only when the compare-and-set wrote the row); PostgreSQL does the same
 * with a data-modifying WITH and needs neither the column nor the triggers.
 */
export const agentRunsSchema: StorageMigration = {
  name: '0007_agent_runs',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('agent_execution_states', (table) => {
      table.text('execution_id').primary();
      table.integer('version').notNullable();
      // statics, pending, active, runs, outputs, costUsd, deadline.
      jsonColumn(table, 'state', dialect).notNullable();
      // SQLite only: the runs the statement writing the row upserts; always null at rest.
      if (dialect === 'sqlite') table.text('incoming_runs').nullable();
    });

    await knex.schema.createTable('node_runs', (table) => {
      table.text('id').primary();
      table.text('execution_id').notNullable();
      table.text('node_id').notNullable();
      table.integer('seq').notNullable();
      table.text('status').notNullable();
      jsonColumn(table, 'inputs', dialect).notNullable();
      jsonColumn(table, 'outputs', dialect).notNullable();
      table.text('error').nullable();
      table.double('cost_usd').notNullable().defaultTo(0);
      table.integer('attempts').notNullable().defaultTo(0);
      table.text('token').nullable();
      table.text('dispatched_by').nullable();
      table.integer('propagated').notNullable().defaultTo(0);
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'started_at', dialect).nullable();
      timestampColumn(table, 'completed_at', dialect).nullable();
      table.index(['execution_id', 'seq'], 'node_runs_execution_seq_index');
    });
    // The backlog: only runs waiting for a free slot are in it, so it stays small and cheap to
    // keep. Queries must spell the predicate out literally (not as bound values) to use it.
    await knex.raw("CREATE INDEX node_runs_backlog_index ON node_runs (execution_id, seq) WHERE dispatched_by IS NULL AND status = 'queued'");
    if (dialect === 'sqlite') {
      await knex.raw(`CREATE TRIGGER agent_execution_states_runs_on_insert AFTER INSERT ON agent_execution_states
        WHEN NEW.incoming_runs IS NOT NULL BEGIN ${MOVE_INCOMING_RUNS} END`);
      await knex.raw(`CREATE TRIGGER agent_execution_states_runs_on_update AFTER UPDATE OF incoming_runs ON agent_execution_states
        WHEN NEW.incoming_runs IS NOT NULL BEGIN ${MOVE_INCOMING_RUNS} END`);
    }

    await knex.schema.alterTable('executions', (table) => {
      table.text('agent_id').nullable().index('executions_agent_id_index');
      table.integer('agent_version').nullable();
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.alterTable('executions', (table) => {
      table.dropIndex(['agent_id'], 'executions_agent_id_index');
      table.dropColumns('agent_id', 'agent_version');
    });
    await knex.schema.dropTable('node_runs');
    await knex.schema.dropTable('agent_execution_states');
  },
};
