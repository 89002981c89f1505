import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { jsonColumn, timestampColumn, type StorageMigration } from './storage-migration.js';

/**
 * agents (owner and latest version; deleted_at marks a soft delete) and agent_versions (each
 * saved graph, immutable, kept after its agent is deleted because executions record them).
 */
export const agentsSchema: StorageMigration = {
  name: '0006_agents',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('agents', (table) => {
      table.text('id').primary();
      table.text('user_id').notNullable();
      table.text('name').notNullable();
      table.text('description').notNullable();
      table.integer('version').notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'updated_at', dialect).notNullable();
      timestampColumn(table, 'deleted_at', dialect).nullable();
      table.index(['user_id', 'created_at', 'id']);
    });

    await knex.schema.createTable('agent_versions', (table) => {
      table.text('agent_id').notNullable().references('id').inTable('agents');
      table.integer('version').notNullable();
      table.text('name').notNullable();
      table.text('description').notNullable();
      jsonColumn(table, 'nodes', dialect).notNullable();
      jsonColumn(table, 'links', dialect).notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      table.primary(['agent_id', 'version']);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('agent_versions');
    await knex.schema.dropTable('agents');
  },
};
