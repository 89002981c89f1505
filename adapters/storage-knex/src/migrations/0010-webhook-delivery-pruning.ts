import type { Knex } from 'knex';
import type { StorageMigration } from './storage-migration.js';

/**
 * An index on webhook_deliveries.received_at, so that pruning old delivery records (the server
 * does it periodically) finds them without reading the whole table.
 */
export const webhookDeliveryPruningSchema: StorageMigration = {
  name: '0010_webhook_delivery_pruning',

  async up(knex: Knex): Promise<void> {
    await knex.schema.alterTable('webhook_deliveries', (table) => {
      table.index(['received_at'], 'webhook_deliveries_received_at_index');
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.alterTable('webhook_deliveries', (table) => {
      table.dropIndex(['received_at'], 'webhook_deliveries_received_at_index');
    });
  },
};
