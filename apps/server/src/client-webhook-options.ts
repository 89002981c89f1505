import { DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS, type ClientWebhookDispatcherOptions } from '@blockyard/core';
import { ConfigError, type ServerConfig } from './config.js';

/** Outbound webhooks of OAuth clients, as configured. */
export interface ClientWebhookConfig {
  dispatcher: ClientWebhookDispatcherOptions;
  /** How often a worker process looks for due deliveries (also woken at once by its own enqueues). */
  pollMs: number;
  /** How often it enqueues execution events a crash may have kept from being enqueued. */
  reconcileMs: number;
  /** Days settled deliveries (delivered, failed, disabled) are kept for listing before they are pruned. */
  keepDays: number;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * BLOCKYARD_OUTBOUND_WEBHOOK_*: RETRY_SCHEDULE (waits before each retry, comma-separated, each a
 * number with ms, s, m or h; default `5s,5m,30m,2h,5h,10h`; `none` for no retries),
 * TIMEOUT_MS (one attempt, default 15000), POLL_MS (default 1000), RECONCILE_MS (default 30000),
 * KEEP_DAYS (default 30), JITTER (fraction each wait varies by, default 0.1).
 */
export function clientWebhookOptionsFromConfig(config: ServerConfig): ClientWebhookConfig {
  const env = config.env;
  const problems: string[] = [];
  const schedule = parseSchedule(env.BLOCKYARD_OUTBOUND_WEBHOOK_RETRY_SCHEDULE, problems);
  const timeoutMs = int(env, 'BLOCKYARD_OUTBOUND_WEBHOOK_TIMEOUT_MS', 15_000, 100, 600_000, problems);
  const pollMs = int(env, 'BLOCKYARD_OUTBOUND_WEBHOOK_POLL_MS', 1_000, 10, 3_600_000, problems);
  const reconcileMs = int(env, 'BLOCKYARD_OUTBOUND_WEBHOOK_RECONCILE_MS', 30_000, 100, 86_400_000, problems);
  const keepDays = int(env, 'BLOCKYARD_OUTBOUND_WEBHOOK_KEEP_DAYS', 30, 1, 3650, problems);
  const jitterRaw = env.BLOCKYARD_OUTBOUND_WEBHOOK_JITTER?.trim();
  let jitter = 0.1;
  if (jitterRaw) {
    jitter = Number(jitterRaw);
    if (!/^\d*\.?\d+$/.test(jitterRaw) || !(jitter >= 0 && jitter < 1)) problems.push(`BLOCKYARD_OUTBOUND_WEBHOOK_JITTER must be a fraction from 0 to below 1 (got ${JSON.stringify(jitterRaw)})`);
  }
  if (problems.length) throw new ConfigError(problems);
  return { dispatcher: { retryScheduleMs: schedule, timeoutMs, jitter }, pollMs, reconcileMs, keepDays };
}

function parseSchedule(raw: string | undefined, problems: string[]): readonly number[] {
  const value = raw?.trim();
  if (!value) return DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS;
  if (value.toLowerCase() === 'none') return [];
  const delays: number[] = [];
  for (const part of value.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(ms|s|m|h)$/.exec(part);
    if (!m || delays.length >= 50) {
      problems.push(`BLOCKYARD_OUTBOUND_WEBHOOK_RETRY_SCHEDULE must be up to 50 comma-separated waits like 5s,5m,30m,2h (units ms, s, m, h), or none (got ${JSON.stringify(value)})`);
      return DEFAULT_CLIENT_WEBHOOK_RETRY_SCHEDULE_MS;
    }
    delays.push(Number(m[1]) * UNITS[m[2]!]!);
  }
  return delays;
}

function int(env: ServerConfig['env'], name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return fallback;
  }
  return Number(raw);
}
