import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { jsonColumn, timestampColumn, type StorageMigration } from './storage-migration.js';

/**
 * oauth_clients (third-party apps: the client secret as a SHA-256 hash, the webhook signing
 * secret sealed like credential secrets) and oauth_artifacts (what the authorization server
 * keeps: codes, tokens, grants, interactions, sessions, keyed by model and id).
 */
export const oauthServerSchema: StorageMigration = {
  name: '0009_oauth_server',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('oauth_clients', (table) => {
      table.text('id').primary();
      table.text('user_id').notNullable();
      table.text('name').notNullable();
      table.text('description').notNullable();
      table.text('client_type').notNullable();
      table.text('secret_hash').nullable();
      jsonColumn(table, 'redirect_uris', dialect).notNullable();
      jsonColumn(table, 'webhook_domains', dialect).notNullable();
      table.text('webhook_secret_key_id').notNullable();
      table.text('webhook_secret_nonce').notNullable();
      table.text('webhook_secret_ciphertext').notNullable();
      table.text('webhook_secret_tag').notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'updated_at', dialect).notNullable();
      timestampColumn(table, 'disabled_at', dialect).nullable();
      table.index(['user_id', 'created_at']);
    });

    await knex.schema.createTable('oauth_artifacts', (table) => {
      table.text('model').notNullable();
      table.text('id').notNullable();
      jsonColumn(table, 'payload', dialect).notNullable();
      table.text('grant_id').nullable();
      table.text('client_id').nullable();
      table.text('user_code').nullable();
      table.text('uid').nullable();
      timestampColumn(table, 'expires_at', dialect).nullable();
      timestampColumn(table, 'consumed_at', dialect).nullable();
      table.primary(['model', 'id']);
      table.index(['grant_id']);
      table.index(['client_id']);
      table.index(['uid']);
      table.index(['user_code']);
      table.index(['expires_at']);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('oauth_artifacts');
    await knex.schema.dropTable('oauth_clients');
  },
};
