import { AgentRepository, AgentRunRepository, ClientWebhookRepository, OAuthArtifactStore, OAuthClientRepository, OAuthStateRepository, WebhookRepository } from '@blockyard/core';
import { ApiKeyRepository, CredentialRepository, ExecutionRepository, LoginThrottleRepository, SessionRepository, UserRepository } from '@blockyard/core';
import { ExternalExecutionRepository, GrantRepository } from '@blockyard/core';
import { ContainerModule } from 'inversify';
import type { KnexStorage } from './create-knex-storage.js';

/** Binds the storage ports to an opened knex storage; its owner closes it. */
export function knexStorageModule(storage: KnexStorage): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(UserRepository).toConstantValue(storage.users);
    bind(ApiKeyRepository).toConstantValue(storage.apiKeys);
    bind(ExecutionRepository).toConstantValue(storage.executions);
    bind(CredentialRepository).toConstantValue(storage.credentials);
    bind(SessionRepository).toConstantValue(storage.sessions);
    bind(LoginThrottleRepository).toConstantValue(storage.loginThrottle);
    bind(OAuthStateRepository).toConstantValue(storage.oauthStates);
    bind(AgentRepository).toConstantValue(storage.agents);
    bind(AgentRunRepository).toConstantValue(storage.agentRuns);
    bind(WebhookRepository).toConstantValue(storage.webhooks);
    bind(OAuthClientRepository).toConstantValue(storage.oauthClients);
    bind(OAuthArtifactStore).toConstantValue(storage.oauthArtifacts);
    bind(GrantRepository).toConstantValue(storage.grants);
    bind(ExternalExecutionRepository).toConstantValue(storage.externalExecutions);
    bind(ClientWebhookRepository).toConstantValue(storage.clientWebhooks);
  });
}
