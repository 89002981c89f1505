import { ApiKeyRepository, CredentialRepository, ExecutionRepository, UserRepository } from '@blockyard/core';
import { storageContract } from '@blockyard/core/testing';
import { expect } from 'chai';
import { Container } from 'inversify';
import { InMemoryAgentRepository } from './in-memory-agent.repository.js';
import { InMemoryAgentRunRepository } from './in-memory-agent-run.repository.js';
import { InMemoryApiKeyRepository } from './in-memory-api-key.repository.js';
import { InMemoryCredentialRepository } from './in-memory-credential.repository.js';
import { InMemoryOAuthStateRepository } from './in-memory-oauth-state.repository.js';
import { InMemoryExecutionRepository } from './in-memory-execution.repository.js';
import { InMemoryUserRepository } from './in-memory-user.repository.js';
import { memoryStorageModule } from './storage-memory.module.js';
import { InMemorySessionRepository } from './in-memory-session.repository.js';
import { InMemoryLoginThrottleRepository } from './in-memory-login-throttle.repository.js';
import { InMemoryWebhookRepository } from './in-memory-webhook.repository.js';
import { InMemoryGrantRepository } from './in-memory-grant.repository.js';
import { InMemoryExternalExecutionRepository } from './in-memory-external-execution.repository.js';
import { InMemoryOAuthClientRepository } from './in-memory-oauth-client.repository.js';
import { InMemoryOAuthArtifactStore } from './in-memory-oauth-artifact.store.js';
import { InMemoryClientWebhookRepository } from './in-memory-client-webhook.repository.js';

storageContract('memory', async () => ({
  users: new InMemoryUserRepository(),
  apiKeys: new InMemoryApiKeyRepository(),
  executions: new InMemoryExecutionRepository(),
  credentials: new InMemoryCredentialRepository(),
  oauthStates: new InMemoryOAuthStateRepository(),
  sessions: new InMemorySessionRepository(),
  loginThrottle: new InMemoryLoginThrottleRepository(),
  agents: new InMemoryAgentRepository(),
  agentRuns: new InMemoryAgentRunRepository(),
  webhooks: new InMemoryWebhookRepository(),
  oauthClients: new InMemoryOAuthClientRepository(),
  oauthArtifacts: new InMemoryOAuthArtifactStore(),
  grants: new InMemoryGrantRepository(),
  externalExecutions: new InMemoryExternalExecutionRepository(),
  clientWebhooks: new InMemoryClientWebhookRepository(),
  close: async () => {},
}));

describe('memoryStorageModule', () => {
  it('binds the storage ports to in-memory repositories', async () => {
    const container = new Container();
    await container.load(memoryStorageModule());
    expect(container.get(UserRepository)).to.be.instanceOf(InMemoryUserRepository);
    expect(container.get(ApiKeyRepository)).to.be.instanceOf(InMemoryApiKeyRepository);
    expect(container.get(ExecutionRepository)).to.be.instanceOf(InMemoryExecutionRepository);
    expect(container.get(CredentialRepository)).to.be.instanceOf(InMemoryCredentialRepository);
    expect(container.get(ExecutionRepository)).to.equal(container.get(ExecutionRepository));
    expect(container.get(CredentialRepository)).to.equal(container.get(CredentialRepository));
  });
});
