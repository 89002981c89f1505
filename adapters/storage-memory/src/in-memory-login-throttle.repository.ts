import type { LoginThrottleRepository } from '@blockyard/core';

/** Failed login times per key, in one process (tests, single-process setups). */
export class InMemoryLoginThrottleRepository implements LoginThrottleRepository {
  private readonly failures = new Map<string, number[]>();

  async recordFailure(key: string, at: Date): Promise<void> {
    const list = this.failures.get(key) ?? [];
    list.push(at.getTime());
    this.failures.set(key, list);
  }

  async failuresSince(key: string, since: Date): Promise<Date[]> {
    return (this.failures.get(key) ?? [])
      .filter((ms) => ms > since.getTime())
      .sort((a, b) => a - b)
      .map((ms) => new Date(ms));
  }

  async clear(key: string): Promise<void> {
    this.failures.delete(key);
  }

  async prune(before: Date): Promise<number> {
    let removed = 0;
    for (const [key, list] of this.failures) {
      const kept = list.filter((ms) => ms > before.getTime());
      removed += list.length - kept.length;
      if (kept.length) this.failures.set(key, kept);
      else this.failures.delete(key);
    }
    return removed;
  }
}
