import type { RateLimitDecision, RateLimitRule } from './rate-limiter.port.js';

/** One rule's current window for one key: when it started (epoch ms) and the requests it counted. */
export interface RateLimitWindow {
  readonly start: number;
  readonly count: number;
}

/** RangeError unless there is a key and at least one rule, each of positive integers and each with its own window length. */
export function assertRateLimitRules(key: string, rules: readonly RateLimitRule[]): void {
  if (!key) throw new RangeError('a rate limit key must not be empty');
  if (!rules.length) throw new RangeError('a rate limit needs at least one rule');
  const windows = new Set<number>();
  for (const { limit, windowMs } of rules) {
    if (!Number.isSafeInteger(limit) || limit < 1 || !Number.isSafeInteger(windowMs) || windowMs < 1) {
      throw new RangeError(`a rate limit rule is a positive integer limit per positive integer milliseconds (got ${limit} per ${windowMs} ms)`);
    }
    if (windows.has(windowMs)) throw new RangeError(`two rate limit rules have the same window (${windowMs} ms): keep the lower limit`);
    windows.add(windowMs);
  }
}

/**
 * The window a rule is in at `now`: the stored one until it ends, else a fresh one starting
 * now. A `now` a little before the stored start (another process's clock) is still in it.
 */
export function currentWindow(stored: RateLimitWindow | undefined, rule: RateLimitRule, now: number): RateLimitWindow {
  return stored && now < stored.start + rule.windowMs ? stored : { start: now, count: 0 };
}

/**
 * The decision for `rules` whose windows (in the same order, counted after this request when
 * allowed, before it when refused) are `windows`. Shared by every RateLimiter so they answer
 * alike.
 */
export function rateLimitDecision(rules: readonly RateLimitRule[], windows: readonly RateLimitWindow[], allowed: boolean, now: number): RateLimitDecision {
  let tightest: RateLimitDecision | null = null;
  for (const [i, rule] of rules.entries()) {
    const window = windows[i]!;
    const resetAt = window.start + rule.windowMs;
    const remaining = Math.max(0, rule.limit - window.count);
    if (!allowed && remaining > 0) continue; // only exhausted rules explain a refusal
    const candidate: RateLimitDecision = { allowed, limit: rule.limit, windowMs: rule.windowMs, remaining, resetAt, retryAfterMs: allowed ? 0 : Math.max(0, resetAt - now) };
    if (!tightest || (allowed ? remaining < tightest.remaining || (remaining === tightest.remaining && resetAt > tightest.resetAt) : resetAt > tightest.resetAt)) tightest = candidate;
  }
  if (!tightest) throw new Error('a refused rate limit decision needs an exhausted rule');
  return tightest;
}
