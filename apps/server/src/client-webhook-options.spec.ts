import { expect } from 'chai';
import { DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS } from '@blockyard/core';
import { ConfigError, readConfig } from './config.js';
import { clientWebhookOptionsFromConfig } from './client-webhook-options.js';

const optionsOf = (env: Record<string, string>) => clientWebhookOptionsFromConfig(readConfig(env, '/srv'));

describe('clientWebhookOptionsFromConfig', () => {
  it('defaults to the 5 s … 10 h schedule, 15 s attempts, polling every second', () => {
    expect(optionsOf({})).to.deep.equal({
      dispatcher: { retryScheduleMs: DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS, timeoutMs: 15_000, jitter: 0.1 },
      pollMs: 1_000,
      reconcileMs: 30_000,
      keepDays: 30,
    });
    expect(DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS).to.deep.equal([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000]);
  });

  it('reads every variable, the schedule with its units', () => {
    expect(
      optionsOf({
        BLOCKYARD_OUTBOUND_WEBHOOK_RETRY_SCHEDULE: '250ms, 2s,3m,1h',
        BLOCKYARD_OUTBOUND_WEBHOOK_TIMEOUT_MS: '2500',
        BLOCKYARD_OUTBOUND_WEBHOOK_POLL_MS: '50',
        BLOCKYARD_OUTBOUND_WEBHOOK_RECONCILE_MS: '1000',
        BLOCKYARD_OUTBOUND_WEBHOOK_KEEP_DAYS: '2',
        BLOCKYARD_OUTBOUND_WEBHOOK_JITTER: '0',
      }),
    ).to.deep.equal({ dispatcher: { retryScheduleMs: [250, 2_000, 180_000, 3_600_000], timeoutMs: 2_500, jitter: 0 }, pollMs: 50, reconcileMs: 1_000, keepDays: 2 });
    expect(optionsOf({ BLOCKYARD_OUTBOUND_WEBHOOK_RETRY_SCHEDULE: 'none' }).dispatcher.retryScheduleMs).to.deep.equal([]);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      optionsOf({ BLOCKYARD_OUTBOUND_WEBHOOK_RETRY_SCHEDULE: '5 seconds', BLOCKYARD_OUTBOUND_WEBHOOK_TIMEOUT_MS: '0', BLOCKYARD_OUTBOUND_WEBHOOK_JITTER: '1.5' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).to.contain('BLOCKYARD_OUTBOUND_WEBHOOK_RETRY_SCHEDULE');
    expect(problems).to.contain('BLOCKYARD_OUTBOUND_WEBHOOK_TIMEOUT_MS');
    expect(problems).to.contain('BLOCKYARD_OUTBOUND_WEBHOOK_JITTER');
  });
});
