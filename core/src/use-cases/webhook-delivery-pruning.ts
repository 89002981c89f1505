import { ValidationError } from '../errors/domain.errors.js';
import type { Clock } from '../system/clock.port.js';
import type { Logger } from '../system/logger.port.js';
import type { WebhookRepository } from '../webhook/webhook.repository.port.js';

/** How long delivery records are kept by default: 7 days, well beyond providers' retry windows. */
export const DEFAULT_WEBHOOK_DELIVERY_KEEP_DAYS = 7;

const DAY_MS = 86_400_000;

/**
 * Use case pruneDeliveries: forgets the webhook delivery records older than the kept window.
 * The records only exist to keep a provider's retry from starting a second execution, so
 * once no provider retries any more they are dead weight; the server runs this periodically.
 */
export class WebhookDeliveryPruning {
  readonly #keepMs: number;

  constructor(
    private readonly deps: { webhooks: WebhookRepository; clock: Clock; logger: Logger },
    /** Days a delivery record is kept after it was received (at least 1). */
    keepDays: number = DEFAULT_WEBHOOK_DELIVERY_KEEP_DAYS,
  ) {
    if (!Number.isInteger(keepDays) || keepDays < 1) throw new ValidationError(`webhook deliveries must be kept a whole number of days, at least 1 (got ${keepDays})`);
    this.#keepMs = keepDays * DAY_MS;
  }

  /** Forgets the records received before now minus the kept window; answers how many went. */
  async prune(): Promise<number> {
    const before = new Date(this.deps.clock.now().getTime() - this.#keepMs);
    const pruned = await this.deps.webhooks.pruneDeliveries(before);
    if (pruned > 0) this.deps.logger.info('old webhook delivery records pruned', { count: pruned, receivedBefore: before.toISOString() });
    return pruned;
  }
}
