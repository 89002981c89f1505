import { AgentRepository, AgentRunRepository, ClientWebhookRepository, OAuthArtifactStore, OAuthClientRepository, OAuthStateRepository, WebhookRepository } from '@blockyard/core';
import { ApiKeyRepository, CredentialRepository, ExecutionRepository, LoginThrottleRepository, SessionRepository, UserRepository } from '@blockyard/core';
import { ExternalExecutionRepository, GrantRepository } from '@blockyard/core';
import { ContainerModule } from 'inversify';
import { InMemoryAgentRepository } from './in-memory-agent.repository.js';
import { InMemoryAgentRunRepository } from './in-memory-agent-run.repository.js';
import { InMemoryApiKeyRepository } from './in-memory-api-key.repository.js';
import { InMemoryCredentialRepository } from './in-memory-credential.repository.js';
import { InMemoryOAuthStateRepository } from './in-memory-oauth-state.repository.js';
import { InMemoryExecutionRepository } from './in-memory-execution.repository.js';
import { InMemoryUserRepository } from './in-memory-user.repository.js';
import { InMemorySessionRepository } from './in-memory-session.repository.js';
import { InMemoryLoginThrottleRepository } from './in-memory-login-throttle.repository.js';
import { InMemoryWebhookRepository } from './in-memory-webhook.repository.js';
import { InMemoryOAuthClientRepository } from './in-memory-oauth-client.repository.js';
import { InMemoryOAuthArtifactStore } from './in-memory-oauth-artifact.store.js';
import { InMemoryClientWebhookRepository } from './in-memory-client-webhook.repository.js';
import { InMemoryGrantRepository } from './in-memory-grant.repository.js';
import { InMemoryExternalExecutionRepository } from './in-memory-external-execution.repository.js';

/** Binds the storage ports to fresh in-memory repositories (one set per module instance). */
export function memoryStorageModule(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(UserRepository).toConstantValue(new InMemoryUserRepository());
    bind(ApiKeyRepository).toConstantValue(new InMemoryApiKeyRepository());
    bind(ExecutionRepository).toConstantValue(new InMemoryExecutionRepository());
    bind(CredentialRepository).toConstantValue(new InMemoryCredentialRepository());
    bind(OAuthStateRepository).toConstantValue(new InMemoryOAuthStateRepository());
    bind(SessionRepository).toConstantValue(new InMemorySessionRepository());
    bind(LoginThrottleRepository).toConstantValue(new InMemoryLoginThrottleRepository());
    bind(AgentRepository).toConstantValue(new InMemoryAgentRepository());
    bind(AgentRunRepository).toConstantValue(new InMemoryAgentRunRepository());
    bind(WebhookRepository).toConstantValue(new InMemoryWebhookRepository());
    bind(OAuthClientRepository).toConstantValue(new InMemoryOAuthClientRepository());
    bind(OAuthArtifactStore).toConstantValue(new InMemoryOAuthArtifactStore());
    bind(GrantRepository).toConstantValue(new InMemoryGrantRepository());
    bind(ExternalExecutionRepository).toConstantValue(new InMemoryExternalExecutionRepository());
    bind(ClientWebhookRepository).toConstantValue(new InMemoryClientWebhookRepository());
  });
}
