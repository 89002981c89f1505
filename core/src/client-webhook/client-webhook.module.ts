import { ContainerModule, type ContainerModuleLoadOptions, type ResolutionContext } from 'inversify';
import { ExecutionLifecycleListener } from '../execution/execution-lifecycle.js';
import { ExecutionRepository } from '../execution/execution.repository.port.js';
import { ExecutionWebhookTargets } from '../grant/execution-webhook-targets.port.js';
import { GrantEvents } from '../grant/grant-events.port.js';
import { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import { OutboundHttp } from '../outbound/outbound-http.port.js';
import { Clock } from '../system/clock.port.js';
import { Logger } from '../system/logger.port.js';
import { ClientWebhookDispatcher, type ClientWebhookDispatcherOptions } from '../use-cases/client-webhook-dispatcher.js';
import { ClientWebhookService } from '../use-cases/client-webhook.service.js';
import { OAuthClientDeletionHook, OAuthClientService } from '../use-cases/oauth-client.service.js';
import { ClientWebhookRepository } from './client-webhook.repository.port.js';
import { CachingClientWebhookRepository, type ClientWebhookCacheOptions } from './client-webhook-cache.js';
import { DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS } from './client-webhook-delivery.js';

/**
 * Outbound webhooks of OAuth clients, loaded beside coreModule (and a storage module binding
 * ClientWebhookRepository): binds the ClientWebhookService as the ExecutionLifecycleListener,
 * the ExecutionWebhookTargets (persisted, so a worker process finds the targets the API set),
 * the GrantEvents and an OAuthClientDeletionHook, and the ClientWebhookDispatcher that sends
 * the outbox (run it periodically where the execution worker runs).
 */
export function clientWebhookModule(options: { dispatcher?: ClientWebhookDispatcherOptions; cache?: ClientWebhookCacheOptions } = {}): ContainerModule {
  return new ContainerModule((load) => {
    // The service and the dispatcher share one cache of endpoints and targets (see CachingClientWebhookRepository).
    let cached: CachingClientWebhookRepository | undefined;
    const deliveries = (ctx: ResolutionContext) => (cached ??= new CachingClientWebhookRepository(ctx.get<ClientWebhookRepository>(ClientWebhookRepository), options.cache));
    load
      .bind(ClientWebhookService)
      .toDynamicValue(
        (ctx) =>
          new ClientWebhookService({
            deliveries: deliveries(ctx),
            clients: ctx.get<OAuthClientRepository>(OAuthClientRepository),
            executions: ctx.get<ExecutionRepository>(ExecutionRepository),
            clock: ctx.get<Clock>(Clock),
            logger: ctx.get<Logger>(Logger),
            maxAttempts: (options.dispatcher?.retryScheduleMs ?? DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS).length + 1,
          }),
      )
      .inSingletonScope();
    load
      .bind(ClientWebhookDispatcher)
      .toDynamicValue((ctx) => {
        const clients = ctx.get(OAuthClientService);
        return new ClientWebhookDispatcher(
          {
            deliveries: deliveries(ctx),
            clients: ctx.get<OAuthClientRepository>(OAuthClientRepository),
            webhookSecret: (client) => clients.openWebhookSecret(client),
            outbound: ctx.get<OutboundHttp>(OutboundHttp),
            clock: ctx.get<Clock>(Clock),
            logger: ctx.get<Logger>(Logger),
          },
          options.dispatcher,
        );
      })
      .inSingletonScope();
    load.bind(ExecutionLifecycleListener).toService(ClientWebhookService);
    load.bind(OAuthClientDeletionHook).toService(ClientWebhookService);
    replace(load, ExecutionWebhookTargets);
    replace(load, GrantEvents);
  });
}

/** Binds `id` to the service, in place of a default bound before (one binding each). */
function replace(load: ContainerModuleLoadOptions, id: symbol): void {
  if (load.isBound(id)) load.unbind(id);
  load.bind(id).toService(ClientWebhookService);
}
