import type { Container } from 'inversify';
import { Clock, ClientWebhookDispatcher, ClientWebhookRepository, ClientWebhookService, type Logger } from '@blockyard/core';
import type { ClientWebhookConfig } from './client-webhook-options.js';
import { startPeriodicTask, type PeriodicTask } from './periodic-task.js';

const DAY_MS = 86_400_000;
const PRUNE_INTERVAL_MS = 3_600_000;

/**
 * The worker's side of outbound webhooks, in the background of this process: sends what this
 * process enqueues at once, and due deliveries every `pollMs`, reconciles execution
 * events every `reconcileMs`, and prunes settled deliveries hourly. The outbox is in storage,
 * so whatever is pending when the process stops is sent by the next one (or by another worker).
 */
export function startClientWebhookLoop(container: Container, config: ClientWebhookConfig, logger: Logger): PeriodicTask {
  const dispatcher = container.get(ClientWebhookDispatcher);
  const service = container.get(ClientWebhookService);
  const deliveries = container.get<ClientWebhookRepository>(ClientWebhookRepository);
  const clock = container.get<Clock>(Clock);

  // What this process enqueues is handed to its dispatcher at once; the poll sends the rest
  // (retries, and what other processes enqueued without a dispatcher of their own).
  const sending = startPeriodicTask('send outbound webhooks', () => dispatcher.dispatchDue(), config.pollMs, logger);
  service.attachSender(dispatcher);
  const reconciling = startPeriodicTask('reconcile outbound webhook events', () => service.reconcile(), config.reconcileMs, logger);
  const pruning = startPeriodicTask(
    'prune settled outbound webhook deliveries',
    () => deliveries.pruneSettled(new Date(clock.now().getTime() - config.keepDays * DAY_MS)),
    PRUNE_INTERVAL_MS,
    logger,
  );
  return {
    async stop() {
      service.attachSender(null);
      await Promise.all([sending.stop(), reconciling.stop(), pruning.stop(), service.drain(), dispatcher.drain()]);
    },
  };
}
