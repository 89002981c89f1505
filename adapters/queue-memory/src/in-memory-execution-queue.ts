import type { DeadJob, ExecutionJob, ExecutionQueue, LeasedJob, LeaseOptions } from '@blockyard/core';

export interface InMemoryQueueOptions {
  /** Deliveries before a job is dead. Default 5. */
  maxAttempts?: number;
  /** Delay before retry n (1-based) of a failed job. Default 500 ms * 2^(n-1), at most 30 s, with ±20 % jitter. */
  backoffMs?: (attempt: number) => number;
  /** How often leases and delays are checked. Default 50 ms. */
  sweepIntervalMs?: number;
}

interface Entry {
  job: ExecutionJob;
  attempts: number;
  availableAt: number;
  lease: { id: string; expiresAt: number } | null;
}

type Waiter = { resolve: (lease: LeasedJob | null) => void; visibilityTimeoutMs: number; timer: ReturnType<typeof setTimeout> };

const defaultBackoff = (attempt: number): number => {
  const base = Math.min(30_000, 500 * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
};

/**
 * An at-least-once queue in process memory: fast, and gone with the process (so `durable`
 * is false and the server re-enqueues from storage on start).
 */
export class InMemoryExecutionQueue implements ExecutionQueue {
  readonly durable = false;
  readonly #maxAttempts: number;
  readonly #backoff: (attempt: number) => number;
  readonly #sweepIntervalMs: number;
  #ready: Entry[] = [];
  #readyHead = 0;
  readonly #delayed = new Set<Entry>();
  readonly #leased = new Map<string, Entry>();
  readonly #waiters: Waiter[] = [];
  readonly #deadListeners: Array<(dead: DeadJob) => void> = [];
  #sweeper: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  #leaseSeq = 0;

  constructor(options: InMemoryQueueOptions = {}) {
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#backoff = options.backoffMs ?? defaultBackoff;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 50;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Jobs waiting, leased and delayed: for tests and metrics. */
  get size(): { ready: number; leased: number; delayed: number } {
    return { ready: this.#ready.length - this.#readyHead, leased: this.#leased.size, delayed: this.#delayed.size };
  }

  async enqueue(job: ExecutionJob, options: { delayMs?: number } = {}): Promise<void> {
    if (this.#closed) throw new Error('queue is closed');
    const entry: Entry = { job: { ...job }, attempts: 0, availableAt: Date.now() + (options.delayMs ?? 0), lease: null };
    if (options.delayMs && options.delayMs > 0) {
      this.#delayed.add(entry);
      this.#ensureSweeper();
    } else this.#makeReady(entry);
  }

  lease(options: LeaseOptions): Promise<LeasedJob | null> {
    if (this.#closed) return Promise.resolve(null);
    const entry = this.#takeReady();
    if (entry) return Promise.resolve(this.#lease(entry, options.visibilityTimeoutMs));
    if (options.waitMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        visibilityTimeoutMs: options.visibilityTimeoutMs,
        timer: setTimeout(() => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve(null);
        }, options.waitMs),
      };
      this.#waiters.push(waiter);
    });
  }

  async extend(lease: LeasedJob, visibilityTimeoutMs: number): Promise<boolean> {
    const entry = this.#leased.get(lease.leaseId);
    if (!entry || !entry.lease) return false;
    entry.lease.expiresAt = Date.now() + visibilityTimeoutMs;
    return true;
  }

  async ack(lease: LeasedJob): Promise<void> {
    this.#leased.delete(lease.leaseId);
  }

  async fail(lease: LeasedJob, reason: string): Promise<'retrying' | 'dead'> {
    const entry = this.#leased.get(lease.leaseId);
    if (!entry) return 'retrying'; // the lease was lost: the job is someone else's now
    this.#leased.delete(lease.leaseId);
    entry.lease = null;
    if (entry.attempts >= this.#maxAttempts) {
      this.#die(entry, reason);
      return 'dead';
    }
    entry.availableAt = Date.now() + this.#backoff(entry.attempts);
    this.#delayed.add(entry);
    this.#ensureSweeper();
    return 'retrying';
  }

  onDead(listener: (dead: DeadJob) => void): void {
    this.#deadListeners.push(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve(null);
    }
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  #makeReady(entry: Entry): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(this.#lease(entry, waiter.visibilityTimeoutMs));
      return;
    }
    this.#ready.push(entry);
  }

  #takeReady(): Entry | undefined {
    if (this.#readyHead >= this.#ready.length) return undefined;
    const entry = this.#ready[this.#readyHead++];
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    return entry;
  }

  #lease(entry: Entry, visibilityTimeoutMs: number): LeasedJob {
    entry.attempts++;
    const id = `lease-${++this.#leaseSeq}`;
    entry.lease = { id, expiresAt: Date.now() + visibilityTimeoutMs };
    this.#leased.set(id, entry);
    this.#ensureSweeper();
    return { job: { ...entry.job }, attempt: entry.attempts, leaseId: id };
  }

  #die(entry: Entry, reason: string): void {
    const dead: DeadJob = { job: { ...entry.job }, attempts: entry.attempts, reason };
    for (const listener of this.#deadListeners) {
      try {
        listener(dead);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  #ensureSweeper(): void {
    if (this.#sweeper || this.#closed) return;
    this.#sweeper = setInterval(() => this.#sweep(), this.#sweepIntervalMs);
    this.#sweeper.unref?.();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.#leased) {
      if (entry.lease && entry.lease.expiresAt <= now) {
        this.#leased.delete(id);
        entry.lease = null;
        if (entry.attempts >= this.#maxAttempts) this.#die(entry, `lease expired ${entry.attempts} times (worker lost)`);
        else this.#makeReady(entry);
      }
    }
    for (const entry of this.#delayed) {
      if (entry.availableAt <= now) {
        this.#delayed.delete(entry);
        this.#makeReady(entry);
      }
    }
    if (this.#leased.size === 0 && this.#delayed.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  }
}
