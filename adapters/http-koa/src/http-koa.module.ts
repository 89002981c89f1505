import { ContainerModule } from 'inversify';
import { ContractValidators } from '@blockyard/contracts';
import { AccessTokenVerifier, ClientWebhookService, AgentRepository, AgentService, AgentTriggerService, OAuthClientRepository, OAuthClientService, OAuthStateRepository, ProviderOAuthService, WebhookRepository } from '@blockyard/core';
import { ApiKeyService, BlockCatalog, CredentialRepository, CredentialService, ExecutionService, Logger, PluginCatalog, SecretCipher, SessionRepository, SessionService } from '@blockyard/core';
import { ExternalExecutionRepository, ExternalExecutionService, GrantRepository, GrantService } from '@blockyard/core';
import type Koa from 'koa';
import { createHttpApp } from './http-app.js';
import { HttpAuthorizationServer, type HttpOptions } from './http-deps.js';
import { HttpRateLimits } from './middleware/rate-limit.js';

/** The Koa application, built from the container's services. */
export const HttpApp = Symbol.for('blockyard/HttpApp');
export type HttpApp = Koa;

export function httpKoaModule(options: HttpOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(HttpApp)
      .toDynamicValue((ctx) =>
        createHttpApp(
          {
            catalog: ctx.get(BlockCatalog),
            plugins: ctx.get(PluginCatalog),
            executions: ctx.get(ExecutionService),
            apiKeys: ctx.get(ApiKeyService),
            credentials:
              ctx.get(CredentialRepository, { optional: true }) && ctx.get(SecretCipher, { optional: true }) ? ctx.get(CredentialService) : null,
            oauth: ctx.get(OAuthStateRepository, { optional: true }) && ctx.get(SecretCipher, { optional: true }) ? ctx.get(ProviderOAuthService) : null,
            validators: new ContractValidators(),
            logger: ctx.get<Logger>(Logger),
            sessions: ctx.get(SessionRepository, { optional: true }) ? ctx.get(SessionService) : null,
            agents: ctx.get(AgentRepository, { optional: true }) ? ctx.get(AgentService) : null,
            triggers: ctx.get(WebhookRepository, { optional: true }) && ctx.get(AgentRepository, { optional: true }) && ctx.get(SecretCipher, { optional: true }) ? ctx.get(AgentTriggerService) : null,
            oauthClients: ctx.get(OAuthClientRepository, { optional: true }) && ctx.get(SecretCipher, { optional: true }) ? ctx.get(OAuthClientService) : null,
            authorizationServer: ctx.get<HttpAuthorizationServer>(HttpAuthorizationServer, { optional: true }) ?? null,
            bearer: ctx.get<AccessTokenVerifier>(AccessTokenVerifier, { optional: true }) ?? null,
            clientWebhooks: ctx.get(ClientWebhookService, { optional: true }) ?? null,
            rateLimits: ctx.get<HttpRateLimits>(HttpRateLimits, { optional: true }) ?? null,
            grants: ctx.get(GrantRepository, { optional: true }) && ctx.get(OAuthClientRepository, { optional: true }) && ctx.get(CredentialRepository, { optional: true }) ? ctx.get(GrantService) : null,
            externalExecutions: ctx.get(GrantRepository, { optional: true }) && ctx.get(ExternalExecutionRepository, { optional: true }) && ctx.get(CredentialRepository, { optional: true }) ? ctx.get(ExternalExecutionService) : null,
          },
          options,
        ),
      )
      .inSingletonScope();
  });
}
