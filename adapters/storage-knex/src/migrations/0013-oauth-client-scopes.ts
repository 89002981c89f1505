import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import type { StorageMigration } from './storage-migration.js';

/**
 * oauth_clients.scopes: the scopes a client may ever request (a JSON array: text on SQLite,
 * jsonb on PostgreSQL); null, as for every client registered before, is every scope.
 */
export const oauthClientScopesSchema: StorageMigration = {
  name: '0013_oauth_client_scopes',

  async up(knex: Knex, dialect: SqlDialect): Promise<void> {
    await knex.schema.alterTable('oauth_clients', (table) => {
      (dialect === 'sqlite' ? table.text('scopes') : table.jsonb('scopes')).nullable();
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.alterTable('oauth_clients', (table) => {
      table.dropColumn('scopes');
    });
  },
};
