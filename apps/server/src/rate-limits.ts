import type { Logger } from '@blockyard/core';
import type { HttpRateLimits } from '@blockyard/http-koa';
import { InMemoryRateLimiter } from '@blockyard/queue-memory';
import { assertRedisReachable, RedisRateLimiter, redisOptionsFromUrl } from '@blockyard/queue-bullmq';
import type { ServerConfig } from './config.js';
import { describeRateLimitPolicy } from './rate-limit-config.js';

/** The rate limits the HTTP API applies (null: none), and how to release their store. */
export interface OpenedRateLimits {
  readonly http: HttpRateLimits | null;
  close(): Promise<void>;
}

/**
 * Opens the configured rate limit store: none when BLOCKYARD_RATE_LIMITS=off or for role
 * worker (it serves no API); process memory; or Redis, under a prefix per queue name so that
 * the API processes of one deployment share their counters. Rejects when Redis does not answer.
 */
export async function openRateLimits(config: ServerConfig, logger: Logger): Promise<OpenedRateLimits> {
  const { enabled, store, policy } = config.rateLimits;
  if (!enabled || config.role === 'worker') return { http: null, close: async () => {} };
  if (store === 'memory') return { http: { limiter: new InMemoryRateLimiter(), policy }, close: async () => {} };
  const connection = redisOptionsFromUrl(config.redisUrl);
  await assertRedisReachable(connection);
  const limiter = new RedisRateLimiter({ connection, prefix: `blockyard:rate-limit:${config.queueName}:`, logger });
  return { http: { limiter, policy }, close: () => limiter.close() };
}

/** The rate limits for log lines: `off`, or the store and each class's rules. */
export function describeRateLimits(config: ServerConfig): string {
  const { enabled, store, policy } = config.rateLimits;
  return enabled ? `${store}: ${describeRateLimitPolicy(policy)}` : 'off';
}
