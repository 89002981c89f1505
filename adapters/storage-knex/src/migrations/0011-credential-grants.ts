import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { jsonColumn, timestampColumn, type StorageMigration } from './storage-migration.js';

/**
 * credential_grants (a user's permission for an OAuth client to use one credential with some
 * integration scopes) and external_executions (the executions apps started through the
 * external API, with their Idempotency-Key, unique per client and user).
 */
export const credentialGrantsSchema: StorageMigration = {
  name: '0011_credential_grants',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('credential_grants', (table) => {
      table.text('id').primary();
      table.text('user_id').notNullable();
      table.text('client_id').notNullable();
      table.text('credential_id').notNullable();
      table.text('provider').notNullable();
      jsonColumn(table, 'scopes', dialect).notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'last_used_at', dialect).nullable();
      timestampColumn(table, 'revoked_at', dialect).nullable();
      table.index(['user_id', 'created_at']);
      table.index(['user_id', 'client_id']);
      table.index(['client_id']);
      table.index(['credential_id']);
    });

    await knex.schema.createTable('external_executions', (table) => {
      table.text('execution_id').primary();
      table.text('client_id').notNullable();
      table.text('user_id').notNullable();
      table.text('idempotency_key').nullable();
      table.text('request_hash').nullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      table.unique(['client_id', 'user_id', 'idempotency_key']);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('external_executions');
    await knex.schema.dropTable('credential_grants');
  },
};
