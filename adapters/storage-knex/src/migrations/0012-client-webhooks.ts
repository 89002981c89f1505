import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { timestampColumn, type StorageMigration } from './storage-migration.js';

/**
 * The outbound webhook outbox of OAuth clients: client_webhook_deliveries (one row per event and
 * endpoint; the body kept as text, exactly the bytes signed; a lease for the dispatcher holding
 * it), client_webhook_endpoints (the URLs a client named, disabled after a 410 Gone) and
 * client_webhook_targets (which executions' events go where, and how far they were enqueued).
 */
export const clientWebhooksSchema: StorageMigration = {
  name: '0012_client_webhooks',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.createTable('client_webhook_deliveries', (table) => {
      table.text('id').primary();
      table.text('client_id').notNullable();
      table.text('url').notNullable();
      table.text('event').notNullable();
      table.text('event_key').notNullable();
      table.text('body').notNullable();
      table.text('event_timestamp').notNullable();
      table.text('status').notNullable();
      table.integer('attempts').notNullable();
      timestampColumn(table, 'next_attempt_at', dialect).nullable();
      table.text('lease_token').nullable();
      timestampColumn(table, 'lease_until', dialect).nullable();
      table.integer('last_status').nullable();
      table.text('last_error').nullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      timestampColumn(table, 'updated_at', dialect).notNullable();
      timestampColumn(table, 'delivered_at', dialect).nullable();
      // Claims: pending deliveries by due time.
      table.index(['status', 'next_attempt_at'], 'client_webhook_deliveries_due');
      // Listing a client's deliveries, newest first; disabling an endpoint.
      table.index(['client_id', 'created_at', 'id'], 'client_webhook_deliveries_client');
      table.index(['client_id', 'url', 'status'], 'client_webhook_deliveries_endpoint');
      // Pruning settled deliveries.
      table.index(['updated_at'], 'client_webhook_deliveries_updated');
    });

    await knex.schema.createTable('client_webhook_endpoints', (table) => {
      table.text('client_id').notNullable();
      table.text('url').notNullable();
      timestampColumn(table, 'last_used_at', dialect).notNullable();
      timestampColumn(table, 'disabled_at', dialect).nullable();
      table.primary(['client_id', 'url']);
      table.index(['client_id', 'last_used_at'], 'client_webhook_endpoints_recent');
    });

    await knex.schema.createTable('client_webhook_targets', (table) => {
      table.text('execution_id').primary();
      table.text('client_id').notNullable();
      table.text('url').notNullable();
      table.text('stage').notNullable();
      timestampColumn(table, 'created_at', dialect).notNullable();
      table.index(['stage', 'execution_id'], 'client_webhook_targets_stage');
      table.index(['client_id'], 'client_webhook_targets_client');
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('client_webhook_targets');
    await knex.schema.dropTable('client_webhook_endpoints');
    await knex.schema.dropTable('client_webhook_deliveries');
  },
};
