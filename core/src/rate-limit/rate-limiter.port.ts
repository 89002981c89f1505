/** At most `limit` requests per `windowMs` milliseconds. */
export interface RateLimitRule {
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * What one consume decided, told by its tightest rule: the one with the fewest requests left
 * when allowed, or, when refused, the exhausted rule that frees up last.
 */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** The tightest rule's limit and window. */
  readonly limit: number;
  readonly windowMs: number;
  /** Requests left in the tightest rule's current window after this one (0 when refused). */
  readonly remaining: number;
  /** When the tightest rule's current window ends (epoch milliseconds). */
  readonly resetAt: number;
  /** How long until a request would be allowed again: 0 when allowed. */
  readonly retryAfterMs: number;
}

/**
 * Counts requests per key in fixed windows that start at a key's first request. A consume is
 * allowed only when every rule has room, and then counts against every rule; a refused one
 * counts against none. Atomic per key: however many consumes race, across processes for a
 * shared store, no rule's limit is exceeded.
 */
export interface RateLimiter {
  /**
   * Takes one request from `key`'s budget under all `rules` at once (each rule its own
   * window). `now` is epoch milliseconds. RangeError for no rules or a rule that is not two
   * positive integers.
   */
  consume(key: string, rules: readonly RateLimitRule[], now: number): Promise<RateLimitDecision>;
}
export const RateLimiter = Symbol.for('blockyard/RateLimiter');
