import type { Knex } from 'knex';
import type { SqlDialect } from '../sql-dialect.js';
import { initialSchema } from './0001-initial-schema.js';
import { credentialsSchema } from './0002-credentials.js';
import { usersSessionsSchema } from './0003-users-sessions.js';
import { oauthSchema } from './0004-oauth.js';
import { loginAttemptsSchema } from './0005-login-attempts.js';
import { agentsSchema } from './0006-agents.js';
import { agentRunsSchema } from './0007-agent-runs.js';
import { webhooksSchema } from './0008-webhooks.js';
import { oauthServerSchema } from './0009-oauth-server.js';
import { webhookDeliveryPruningSchema } from './0010-webhook-delivery-pruning.js';
import { credentialGrantsSchema } from './0011-credential-grants.js';
import { clientWebhooksSchema } from './0012-client-webhooks.js';
import { oauthClientScopesSchema } from './0013-oauth-client-scopes.js';
import { executionGrantsSchema } from './0014-execution-grants.js';
import type { StorageMigration } from './storage-migration.js';

/** Every migration, oldest first. Append new ones; never reorder or edit applied ones. */
export const STORAGE_MIGRATIONS: readonly StorageMigration[] = [initialSchema, credentialsSchema, usersSessionsSchema, oauthSchema, loginAttemptsSchema, agentsSchema, agentRunsSchema, webhooksSchema, oauthServerSchema, webhookDeliveryPruningSchema, credentialGrantsSchema, clientWebhooksSchema, oauthClientScopesSchema, executionGrantsSchema];

/** The migrations as a knex migration source, bound to the dialect they run on. */
export function storageMigrationSource(dialect: SqlDialect): Knex.MigrationSource<StorageMigration> {
  return {
    getMigrations: async () => [...STORAGE_MIGRATIONS],
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => ({
      up: (knex: Knex) => migration.up(knex, dialect),
      down: (knex: Knex) => migration.down(knex, dialect),
    }),
  };
}
