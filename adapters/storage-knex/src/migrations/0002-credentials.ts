import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { jsonColumn, timestampColumn, type StorageMigration } from './storage-migration.js';

/** credentials: metadata in the clear, the secret as its sealed parts (never plaintext). */
export const credentialsSchema: StorageMigration = {
  name: '0002_credentials',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('credentials', (table) => {
      table.text('id').primary();
      table.text('user_id').notNullable();
      table.text('provider').notNullable();
      table.text('kind').notNullable();
      table.text('title').notNullable();
      jsonColumn(table, 'scopes', dialect).notNullable();
      table.text('status').notNullable();
      timestampColumn(table, 'expires_at', dialect).nullable();
      table.text('secret_key_id').notNullable();
      table.text('secret_nonce').notNullable();
      table.text('secret_ciphertext').notNullable();
      table.text('secret_tag').notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'updated_at', dialect).notNullable();
      table.index(['user_id', 'created_at']);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('credentials');
  },
};
