import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { timestampColumn, type StorageMigration } from './storage-migration.js';

/**
 * login_attempts replaces login_failures: one row per throttled key (count and window start),
 * so that counting an attempt and checking the limit is one atomic upsert.
 */
export const loginAttemptsSchema: StorageMigration = {
  name: '0005_login_attempts',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('login_attempts', (table) => {
      table.text('key').primary();
      table.integer('count').notNullable();
      timestampColumn(table, 'window_started_at', dialect).notNullable().index();
    });
    // Failures are short-lived (one window); they are not carried over.
    await knex.schema.dropTable('login_failures');
  },

  async down(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('login_failures', (table) => {
      table.increments('id').primary();
      table.text('key').notNullable();
      timestampColumn(table, 'at', dialect).notNullable().index();
      table.index(['key', 'at']);
    });
    await knex.schema.dropTable('login_attempts');
  },
};
