import { expect } from 'chai';
import { ValidationError } from '../errors/domain.errors.js';
import { FakeClock } from '../system/clock.port.js';
import { silentLogger, type Logger } from '../system/logger.port.js';
import type { WebhookRepository } from '../webhook/webhook.repository.port.js';
import type { WebhookDeliveryRecord } from '../webhook/webhook-registration.js';
import { WebhookDeliveryPruning } from './webhook-delivery-pruning.js';

const DAY = 86_400_000;

/** Delivery records in a list; pruneDeliveries removes those received before the cutoff. */
class DeliveryStoreMock implements Pick<WebhookRepository, 'pruneDeliveries'> {
  records: WebhookDeliveryRecord[] = [];
  async pruneDeliveries(before: Date) {
    const kept = this.records.filter((r) => r.receivedAt.getTime() >= before.getTime());
    const pruned = this.records.length - kept.length;
    this.records = kept;
    return pruned;
  }
  asRepository(): WebhookRepository {
    return this as unknown as WebhookRepository;
  }
}

/** Keeps the lines logged at info. */
class LoggerMock implements Logger {
  readonly lines: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  debug() {}
  info(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ message, fields });
  }
  warn() {}
  error() {}
  child() {
    return this;
  }
}

describe('WebhookDeliveryPruning', () => {
  const clock = new FakeClock('2026-06-15T12:00:00.000Z');
  const receivedAgo = (ms: number, deliveryId: string): WebhookDeliveryRecord => ({ webhookId: 'w1', deliveryId, eventType: 'issues', executionId: null, receivedAt: new Date(clock.now().getTime() - ms) });

  describe('prune', () => {
    it('forgets the records older than 7 days by default, keeps the rest, and logs how many went', async () => {
      const store = new DeliveryStoreMock();
      store.records = [receivedAgo(30 * DAY, 'month-old'), receivedAgo(7 * DAY + 1, 'just-over-a-week'), receivedAgo(7 * DAY, 'exactly-a-week'), receivedAgo(3_600_000, 'an-hour-old')];
      const logger = new LoggerMock();
      const pruning = new WebhookDeliveryPruning({ webhooks: store.asRepository(), clock, logger });
      expect(await pruning.prune()).to.equal(2);
      expect(store.records.map((r) => r.deliveryId)).to.deep.equal(['exactly-a-week', 'an-hour-old']);
      expect(logger.lines).to.deep.equal([{ message: 'old webhook delivery records pruned', fields: { count: 2, receivedBefore: '2026-06-08T12:00:00.000Z' } }]);

      expect(await pruning.prune()).to.equal(0);
      expect(logger.lines).to.have.length(1);
    });

    it('keeps records the configured number of days, measured from the clock at each run', async () => {
      const store = new DeliveryStoreMock();
      const runClock = new FakeClock(clock.now());
      store.records = [receivedAgo(DAY + 1, 'over-a-day'), receivedAgo(DAY - 1, 'under-a-day')];
      const pruning = new WebhookDeliveryPruning({ webhooks: store.asRepository(), clock: runClock, logger: silentLogger }, 1);
      expect(await pruning.prune()).to.equal(1);
      expect(store.records.map((r) => r.deliveryId)).to.deep.equal(['under-a-day']);
      runClock.advance(2);
      expect(await pruning.prune()).to.equal(1);
      expect(store.records).to.deep.equal([]);
    });

    it('refuses to keep records less than one day, or a fraction of days', () => {
      const webhooks = new DeliveryStoreMock().asRepository();
      for (const days of [0, -1, 1.5, Number.NaN]) {
        expect(() => new WebhookDeliveryPruning({ webhooks, clock, logger: silentLogger }, days), String(days)).to.throw(ValidationError, /at least 1/);
      }
    });
  });
});
