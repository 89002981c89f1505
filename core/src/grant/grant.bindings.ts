import type { Bind } from 'inversify';
import { AgentRepository } from '../agent/agent.repository.port.js';
import { BlockRegistry } from '../block/block-registry.port.js';
import { CredentialRepository } from '../credential/credential.repository.port.js';
import type { SystemCredentialResolver } from '../credential/system-credential-resolver.js';
import { AppAuthorizations } from '../oauth-client/app-authorizations.port.js';
import { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import { ProviderRegistry } from '../provider/provider-registry.js';
import { Clock } from '../system/clock.port.js';
import { IdGenerator } from '../system/id-generator.port.js';
import { Logger } from '../system/logger.port.js';
import { CredentialService } from '../use-cases/credential.service.js';
import { ExecutionService } from '../use-cases/execution.service.js';
import { ExternalExecutionService } from '../use-cases/external-execution.service.js';
import { GrantService } from '../use-cases/grant.service.js';
import { OAuthClientDeletionHook } from '../use-cases/oauth-client.service.js';
import { CredentialDeletionHook } from '../credential/credential-deletion-hook.js';
import { ExecutionWebhookTargets, InMemoryExecutionWebhookTargets } from './execution-webhook-targets.port.js';
import { ExternalExecutionRepository } from './external-execution.repository.port.js';
import { GrantEvents, noopGrantEvents } from './grant-events.port.js';
import { GrantRepository } from './grant.repository.port.js';

/**
 * Binds GrantService, ExternalExecutionService and the OAuthClientDeletionHook that revokes a
 * deleted client's grants (a no-op without a GrantRepository). GrantEvents and
 * ExecutionWebhookTargets are looked up on first use, so that whatever binds them (outbound
 * webhooks) may itself depend on these services; unbound, they are a no-op and a per-process map.
 */
export function bindGrants(bind: Bind, systemCredentials: SystemCredentialResolver): void {
  const defaultTargets = new InMemoryExecutionWebhookTargets();
  bind(GrantService)
    .toDynamicValue((ctx) => {
      let events: GrantEvents | undefined;
      // Looked up on use: the authorization server's module may be loaded after this one.
      const authorizations = (): AppAuthorizations | undefined => ctx.get<AppAuthorizations>(AppAuthorizations, { optional: true });
      return new GrantService({
        grants: ctx.get<GrantRepository>(GrantRepository),
        clients: ctx.get<OAuthClientRepository>(OAuthClientRepository),
        credentials: ctx.get<CredentialRepository>(CredentialRepository),
        providers: ctx.get(ProviderRegistry),
        credentialDeleter: { deleteCredential: (userId, id) => ctx.get(CredentialService).deleteCredential(userId, id) },
        events: { revoked: (grant) => (events ??= ctx.get<GrantEvents>(GrantEvents, { optional: true }) ?? noopGrantEvents).revoked(grant) },
        executions: { grantRevoked: (grantId) => ctx.get(ExecutionService).grantRevoked(grantId) },
        authorizations: { hasAuthorized: async (userId, clientId, scope) => (await authorizations()?.hasAuthorized(userId, clientId, scope)) ?? false },
        clock: ctx.get<Clock>(Clock),
        ids: ctx.get<IdGenerator>(IdGenerator),
        logger: ctx.get<Logger>(Logger),
      });
    })
    .inSingletonScope();
  bind(ExternalExecutionService)
    .toDynamicValue((ctx) => {
      let targets: ExecutionWebhookTargets | undefined;
      const targetsOf = () => (targets ??= ctx.get<ExecutionWebhookTargets>(ExecutionWebhookTargets, { optional: true }) ?? defaultTargets);
      return new ExternalExecutionService({
        grants: ctx.get(GrantService),
        records: ctx.get<ExternalExecutionRepository>(ExternalExecutionRepository),
        clients: ctx.get<OAuthClientRepository>(OAuthClientRepository),
        agents: ctx.get<AgentRepository>(AgentRepository, { optional: true }) ?? null,
        registry: ctx.get<BlockRegistry>(BlockRegistry),
        executions: ctx.get(ExecutionService),
        webhookTargets: { set: (target) => targetsOf().set(target), get: (id) => targetsOf().get(id) },
        systemProviders: () => systemCredentials.providers,
        clock: ctx.get<Clock>(Clock),
        ids: ctx.get<IdGenerator>(IdGenerator),
        logger: ctx.get<Logger>(Logger),
      });
    })
    .inSingletonScope();
  bind(OAuthClientDeletionHook)
    .toDynamicValue((ctx): OAuthClientDeletionHook => {
      if (!ctx.get<GrantRepository>(GrantRepository, { optional: true })) return { oauthClientDeleted: async () => {} };
      const grants = ctx.get(GrantService);
      return { oauthClientDeleted: (client) => grants.oauthClientDeleted(client) };
    })
    .inSingletonScope();
  bind(CredentialDeletionHook)
    .toDynamicValue((ctx): CredentialDeletionHook => {
      if (!ctx.get<GrantRepository>(GrantRepository, { optional: true })) return { credentialDeleted: async () => {} };
      const grants = ctx.get(GrantService);
      return { credentialDeleted: (credential) => grants.credentialDeleted(credential) };
    })
    .inSingletonScope();
}
