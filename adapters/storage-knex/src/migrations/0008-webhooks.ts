import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { jsonColumn, timestampColumn, type StorageMigration } from './storage-migration.js';

/**
 * webhooks (an activated agent's inbound webhook: one per agent, its signing secret sealed like
 * credential secrets) and webhook_deliveries (each delivery id received, once per webhook: the
 * primary key is what keeps a provider's retry from starting a second execution).
 */
export const webhooksSchema: StorageMigration = {
  name: '0008_webhooks',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('webhooks', (table) => {
      table.text('id').primary();
      table.text('user_id').notNullable();
      table.text('agent_id').notNullable().unique();
      table.text('trigger_node_id').notNullable();
      table.text('block_id').notNullable();
      table.text('provider').notNullable();
      jsonColumn(table, 'events', dialect).notNullable();
      table.text('mode').notNullable();
      table.text('secret_key_id').notNullable();
      table.text('secret_nonce').notNullable();
      table.text('secret_ciphertext').notNullable();
      table.text('secret_tag').notNullable();
      jsonColumn(table, 'config', dialect).notNullable();
      table.text('credential_id').nullable();
      table.text('external_id').nullable();
      table.text('status').notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'updated_at', dialect).notNullable();
    });

    await knex.schema.createTable('webhook_deliveries', (table) => {
      table.text('webhook_id').notNullable().references('id').inTable('webhooks').onDelete('CASCADE');
      table.text('delivery_id').notNullable();
      table.text('event_type').notNullable();
      table.text('execution_id').nullable();
      timestampColumn(table, 'received_at', dialect).notNullable();
      table.primary(['webhook_id', 'delivery_id']);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('webhook_deliveries');
    await knex.schema.dropTable('webhooks');
  },
};
