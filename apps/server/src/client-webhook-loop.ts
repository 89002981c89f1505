import type { Container } from 'inversify';
import { Clock, ClientWebhookDispatcher, ClientWebhookRepository, ClientWebhookService, type Logger } from '@blockyard/core';
import type { ClientWebhookConfig } from './client-webhook-options.js';
import { intervalScheduler, startPeriodicTask, type PeriodicTask, type TickScheduler } from './periodic-task.js';

const DAY_MS = 86_400_000;
const PRUNE_INTERVAL_MS = 3_600_000;

/**
 * The worker's side of outbound webhooks, in the background of this process: sends due
 * deliveries every `pollMs` and at once when this process enqueued one, reconciles execution
 * events every `reconcileMs`, and prunes settled deliveries hourly. The outbox is in storage,
 * so whatever is pending when the process stops is sent by the next one (or by another worker).
 */
export function startClientWebhookLoop(container: Container, config: ClientWebhookConfig, logger: Logger): PeriodicTask {
  const dispatcher = container.get(ClientWebhookDispatcher);
  const service = container.get(ClientWebhookService);
  const deliveries = container.get<ClientWebhookRepository>(ClientWebhookRepository);
  const clock = container.get<Clock>(Clock);

  // A wake-up while a run is going asks for one more run right after it.
  let tick: (() => void) | null = null;
  let again = false;
  const wakeable: TickScheduler = (t, intervalMs) => {
    tick = t;
    return intervalScheduler(t, intervalMs);
  };
  const sending = startPeriodicTask(
    'send outbound webhooks',
    async () => {
      do {
        again = false;
        await dispatcher.dispatchDue();
      } while (again);
    },
    config.pollMs,
    logger,
    wakeable,
  );
  service.onEnqueued(() => {
    again = true;
    tick?.();
  });
  const reconciling = startPeriodicTask('reconcile outbound webhook events', () => service.reconcile(), config.reconcileMs, logger);
  const pruning = startPeriodicTask(
    'prune settled outbound webhook deliveries',
    () => deliveries.pruneSettled(new Date(clock.now().getTime() - config.keepDays * DAY_MS)),
    PRUNE_INTERVAL_MS,
    logger,
  );
  return {
    async stop() {
      service.onEnqueued(null);
      await Promise.all([sending.stop(), reconciling.stop(), pruning.stop()]);
    },
  };
}
