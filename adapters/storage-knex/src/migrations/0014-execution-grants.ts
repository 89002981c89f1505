import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { jsonColumn, type StorageMigration } from './storage-migration.js';

/**
 * executions.grant_ids: the credential grants an app's execution (the external API) goes
 * through, as a JSON array of grant ids; null for the user's own executions.
 */
export const executionGrantsSchema: StorageMigration = {
  name: '0014_execution_grants',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.alterTable('executions', (table) => {
      jsonColumn(table, 'grant_ids', dialect).nullable();
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.alterTable('executions', (table) => {
      table.dropColumn('grant_ids');
    });
  },
};
