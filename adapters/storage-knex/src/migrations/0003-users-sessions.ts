import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { timestampColumn, type StorageMigration } from './storage-migration.js';

/** users.password_hash (nullable: the CLI's default user has none), sessions and login_failures. */
export const usersSessionsSchema: StorageMigration = {
  name: '0003_users_sessions',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.alterTable('users', (table) => {
      table.text('password_hash').nullable();
    });

    await knex.schema.createTable('sessions', (table) => {
      table.text('id_hash').primary();
      table.text('user_id').notNullable().index();
      table.text('csrf_token').notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'expires_at', dialect).notNullable().index();
      timestampColumn(table, 'last_seen_at', dialect).notNullable();
    });

    await knex.schema.createTable('login_failures', (table) => {
      table.increments('id').primary();
      table.text('key').notNullable();
      timestampColumn(table, 'at', dialect).notNullable().index();
      table.index(['key', 'at']);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('login_failures');
    await knex.schema.dropTable('sessions');
    await knex.schema.alterTable('users', (table) => {
      table.dropColumn('password_hash');
    });
  },
};
