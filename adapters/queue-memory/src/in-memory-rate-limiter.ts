import { assertRateLimitRules, currentWindow, rateLimitDecision, type RateLimitDecision, type RateLimiter, type RateLimitRule, type RateLimitWindow } from '@blockyard/core';

export interface InMemoryRateLimiterOptions {
  /** Windows that have ended are dropped once this many are held. Default 10 000. */
  sweepAbove?: number;
}

/**
 * Rate limit counters in this process's memory: for one server process (limits are per
 * process). A consume runs start to end without yielding, so it is atomic per key. Ended
 * windows are dropped as the map grows, so memory follows the keys active in the last window.
 */
export class InMemoryRateLimiter implements RateLimiter {
  /** `<windowMs> <key>` -> that rule's current window for that key. */
  readonly #windows = new Map<string, RateLimitWindow & { end: number }>();
  readonly #sweepAbove: number;
  #nextSweepAt: number;

  constructor(options: InMemoryRateLimiterOptions = {}) {
    this.#sweepAbove = options.sweepAbove ?? 10_000;
    this.#nextSweepAt = this.#sweepAbove;
  }

  /** Windows held right now (ended ones included until the next sweep). */
  get size(): number {
    return this.#windows.size;
  }

  async consume(key: string, rules: readonly RateLimitRule[], now: number): Promise<RateLimitDecision> {
    assertRateLimitRules(key, rules);
    const ids = rules.map((rule) => `${rule.windowMs} ${key}`);
    const windows = rules.map((rule, i) => currentWindow(this.#windows.get(ids[i]!), rule, now));
    const allowed = rules.every((rule, i) => windows[i]!.count < rule.limit);
    if (!allowed) return rateLimitDecision(rules, windows, false, now);
    const counted = windows.map((w) => ({ start: w.start, count: w.count + 1 }));
    for (const [i, rule] of rules.entries()) this.#windows.set(ids[i]!, { ...counted[i]!, end: counted[i]!.start + rule.windowMs });
    if (this.#windows.size >= this.#nextSweepAt) this.#sweep(now);
    return rateLimitDecision(rules, counted, true, now);
  }

  /** Drops ended windows; sweeps again when the map has doubled from what is left. */
  #sweep(now: number): void {
    for (const [id, window] of this.#windows) if (window.end <= now) this.#windows.delete(id);
    this.#nextSweepAt = Math.max(this.#sweepAbove, this.#windows.size * 2);
  }
}
