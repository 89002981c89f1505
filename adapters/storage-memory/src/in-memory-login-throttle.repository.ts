import type { LoginThrottleRepository, ThrottlePolicy, ThrottleVerdict } from '@blockyard/core';

interface Window {
  count: number;
  startedAt: number;
}

/**
 * Login attempts per key, in one process (tests, single-process setups). Each method reads and
 * writes without awaiting in between, so an attempt's increment-and-check is atomic.
 */
export class InMemoryLoginThrottleRepository implements LoginThrottleRepository {
  private readonly windows = new Map<string, Window>();

  async attempt(key: string, at: Date, policy: ThrottlePolicy): Promise<ThrottleVerdict> {
    const now = at.getTime();
    const current = this.windows.get(key);
    const window = current && current.startedAt > now - policy.windowMs ? { count: current.count + 1, startedAt: current.startedAt } : { count: 1, startedAt: now };
    this.windows.set(key, window);
    return { allowed: window.count <= policy.limit, attempts: window.count, windowEndsAt: new Date(window.startedAt + policy.windowMs) };
  }

  async release(key: string, at: Date, policy: ThrottlePolicy): Promise<void> {
    const current = this.windows.get(key);
    if (!current || current.startedAt <= at.getTime() - policy.windowMs) return;
    this.windows.set(key, { count: Math.max(0, Math.min(current.count, policy.limit) - 1), startedAt: current.startedAt });
  }

  async clear(key: string): Promise<void> {
    this.windows.delete(key);
  }

  async prune(before: Date): Promise<number> {
    let removed = 0;
    for (const [key, window] of this.windows) {
      if (window.startedAt <= before.getTime()) {
        this.windows.delete(key);
        removed += 1;
      }
    }
    return removed;
  }
}
