import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageContract } from '@blockyard/core/testing';
import { createKnexStorage } from './create-knex-storage.js';
import { assertPostgresReachable, openPostgresTestStorage } from './postgres-test-database.js';

storageContract('knex sqlite', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'blockyard-knex-'));
  const storage = await createKnexStorage({ dataDir });
  return {
    users: storage.users,
    apiKeys: storage.apiKeys,
    executions: storage.executions,
    credentials: storage.credentials,
    oauthStates: storage.oauthStates,
    sessions: storage.sessions,
    loginThrottle: storage.loginThrottle,
    agents: storage.agents,
    agentRuns: storage.agentRuns,
    webhooks: storage.webhooks,
    oauthClients: storage.oauthClients,
    oauthArtifacts: storage.oauthArtifacts,
    grants: storage.grants,
    externalExecutions: storage.externalExecutions,
    clientWebhooks: storage.clientWebhooks,
    async close() {
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});

describe('knex on PostgreSQL', () => {
  before(assertPostgresReachable);

  for (const groupCommit of [false, true]) {
    storageContract(`knex postgres${groupCommit ? ' with group commit' : ''}`, async () => {
      const storage = await openPostgresTestStorage({ groupCommit });
      return { users: storage.users, apiKeys: storage.apiKeys, executions: storage.executions, credentials: storage.credentials, oauthStates: storage.oauthStates, sessions: storage.sessions, loginThrottle: storage.loginThrottle, agents: storage.agents, agentRuns: storage.agentRuns, webhooks: storage.webhooks, oauthClients: storage.oauthClients, oauthArtifacts: storage.oauthArtifacts, grants: storage.grants, externalExecutions: storage.externalExecutions, clientWebhooks: storage.clientWebhooks, close: () => storage.drop() };
    });
  }
});
