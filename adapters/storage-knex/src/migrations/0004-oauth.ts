import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { jsonColumn, timestampColumn, type StorageMigration } from './storage-migration.js';

/** oauth_states: pending provider logins (single-use state, sealed PKCE verifier), keyed by the state's hash. */
export const oauthSchema: StorageMigration = {
  name: '0004_oauth',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('oauth_states', (table) => {
      table.text('id').primary();
      table.text('user_id').notNullable();
      table.text('provider').notNullable();
      table.text('verifier_key_id').nullable();
      table.text('verifier_nonce').nullable();
      table.text('verifier_ciphertext').nullable();
      table.text('verifier_tag').nullable();
      table.text('redirect_uri').notNullable();
      jsonColumn(table, 'scopes', dialect).notNullable();
      timestampColumn(table, 'expires_at', dialect).notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      table.index(['expires_at']);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('oauth_states');
  },
};
