import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { jsonColumn, timestampColumn, type StorageMigration } from './storage-migration.js';

/** users, api_keys and executions. */
export const initialSchema: StorageMigration = {
  name: '0001_initial_schema',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('users', (table) => {
      table.text('id').primary();
      table.text('email').notNullable().unique();
      table.text('name').notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable().index();
    });

    await knex.schema.createTable('api_keys', (table) => {
      table.text('id').primary();
      table.text('user_id').notNullable();
      table.text('name').notNullable();
      table.text('prefix').notNullable();
      table.text('hash').notNullable().unique();
      jsonColumn(table, 'scopes', dialect).notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'last_used_at', dialect).nullable();
      timestampColumn(table, 'expires_at', dialect).nullable();
      timestampColumn(table, 'revoked_at', dialect).nullable();
      table.index(['user_id', 'created_at']);
    });

    await knex.schema.createTable('executions', (table) => {
      table.text('id').primary();
      table.text('user_id').notNullable();
      table.text('block_id').notNullable();
      table.text('status').notNullable();
      jsonColumn(table, 'inputs', dialect).notNullable();
      jsonColumn(table, 'outputs', dialect).notNullable();
      table.text('error').nullable();
      table.double('cost_usd').notNullable().defaultTo(0);
      table.integer('attempts').notNullable().defaultTo(0);
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'started_at', dialect).nullable();
      timestampColumn(table, 'completed_at', dialect).nullable();
      table.index(['status', 'created_at']);
      table.index(['user_id']);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('executions');
    await knex.schema.dropTable('api_keys');
    await knex.schema.dropTable('users');
  },
};
