import type { RateLimitRule } from './rate-limiter.port.js';

/**
 * The kinds of request that have their own rate limit budget per client:
 * - `oauth`: the authorization server and client management (/oauth/...),
 * - `execute`: starting a block or agent run (POST .../execute),
 * - `read`: GET requests of the APIs,
 * - `write`: other changes through the APIs.
 */
export const ENDPOINT_CLASSES = ['oauth', 'execute', 'read', 'write'] as const;
export type EndpointClass = (typeof ENDPOINT_CLASSES)[number];

/** The rules of each endpoint class; a class without rules is not limited. */
export type RateLimitPolicy = Readonly<Record<EndpointClass, readonly RateLimitRule[]>>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The limits of the External API guide: OAuth endpoints 20-30 a minute (30), agent execution 10
 * a minute and 100 an hour, reads 60 a minute and 1000 an hour; other writes 30 a minute and
 * 500 an hour.
 */
export const DEFAULT_RATE_LIMIT_POLICY: RateLimitPolicy = {
  oauth: [{ limit: 30, windowMs: MINUTE }],
  execute: [
    { limit: 10, windowMs: MINUTE },
    { limit: 100, windowMs: HOUR },
  ],
  read: [
    { limit: 60, windowMs: MINUTE },
    { limit: 1000, windowMs: HOUR },
  ],
  write: [
    { limit: 30, windowMs: MINUTE },
    { limit: 500, windowMs: HOUR },
  ],
};
