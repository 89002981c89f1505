import { randomUUID } from 'node:crypto';
import { Job, Queue, UnrecoverableError, Worker, type JobJsonRaw } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { silentLogger, type DeadJob, type ExecutionJob, type ExecutionQueue, type LeasedJob, type LeaseOptions, type Logger } from '@blockyard/core';

export interface BullMqQueueOptions {
  /** ioredis options (see redisOptionsFromUrl); the queue opens and closes its own connections with them. */
  connection: RedisOptions;
  /** The BullMQ queue name; every process sharing work uses the same one. */
  queueName: string;
  /** Key prefix in Redis. Default `blockyard`: keys are `blockyard:<queueName>:...`. */
  prefix?: string;
  /** Deliveries before a job is dead (failures and lost leases alike). Default 5. */
  maxAttempts?: number;
  /** Delay before retry n (1-based) of a failed job. Default 500 ms * 2^(n-1), at most 30 s, with ±20 % jitter. */
  backoffMs?: (attempt: number) => number;
  /**
   * How often lost leases are looked for (BullMQ's stalled-job check, run by one process at a
   * time). A lease is noticed lost between one and two intervals after it ran out. Default 15 s.
   */
  stalledCheckIntervalMs?: number;
  logger?: Logger;
}

const defaultBackoff = (attempt: number): number => {
  const base = Math.min(30_000, 500 * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
};

/** BullMQ's reason when a job comes back after its attempts ran out (worker option maxStartedAttempts). */
const STARTED_TOO_OFTEN = 'job started more than allowable limit';
/** BullMQ error codes that mean the lease is no longer ours: the job is gone, elsewhere, or locked by another. */
const LEASE_LOST_CODES = new Set([-1, -2, -3, -6]);
/** How long a dead job's claim is kept, so that only one process reports it. */
const DEAD_CLAIM_MS = 7 * 24 * 3600_000;

/** The job as it crosses Redis: everything but the in-process snapshot. */
type JobData = Omit<ExecutionJob, 'snapshot'>;
type FetchedJob = { job: Job<JobData>; token: string; fetchedAt: number };

interface LeaseRequest {
  visibilityTimeoutMs: number;
  resolve(lease: LeasedJob | null): void;
  timer: ReturnType<typeof setTimeout>;
  settled: boolean;
}

/**
 * A durable at-least-once queue on BullMQ (Redis), shared by every process using the same
 * queue name. Jobs are fetched manually (a Worker without a processor): a lease is a BullMQ
 * job lock with a token of its own, its visibility timeout the lock's duration.
 *
 * - Delivery `attempt` is BullMQ's attemptsStarted: failures and lost leases both count, and
 *   a job is dead once `maxAttempts` deliveries were used up.
 * - Lost leases are found by BullMQ's stalled-job check, which runs in processes that lease
 *   or listen for dead jobs, and put back to wait. A job whose last delivery was lost is
 *   declared dead by the process that finds it; one delivered beyond its attempts is failed
 *   without running. A claim key in Redis makes sure one process alone reports each dead job.
 * - The job crosses Redis as JSON without its in-process snapshot.
 */
export class BullMqExecutionQueue implements ExecutionQueue {
  readonly durable = true;
  readonly #options: BullMqQueueOptions;
  readonly #prefix: string;
  readonly #maxAttempts: number;
  readonly #backoff: (attempt: number) => number;
  readonly #logger: Logger;
  /** Made on first use: BullMQ cannot close one cleanly before it has connected. */
  #queue: Queue<JobData> | null = null;
  /** For what BullMQ has no call for: dead-job claims, uncounting a delivery, key cleanup. */
  readonly #redis: Redis;
  #worker: Worker<JobData> | null = null;
  #lockDurationMs = 30_000;
  readonly #requests: LeaseRequest[] = [];
  /** Jobs fetched with no lease() waiting for them (one came with an ack, or its request timed out): the next lease takes them. */
  readonly #held: FetchedJob[] = [];
  /** Leases handed out: lease id -> the job and its lock token (a token may outlive one lease, see ack). */
  readonly #leases = new Map<string, { job: Job<JobData>; token: string }>();
  readonly #deadListeners: Array<(dead: DeadJob) => void> = [];
  #pumping: Promise<void> | null = null;
  #closed = false;
  #released: Promise<void> | null = null;

  constructor(options: BullMqQueueOptions) {
    this.#options = options;
    this.#prefix = options.prefix ?? 'blockyard';
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#backoff = options.backoffMs ?? defaultBackoff;
    this.#logger = options.logger ?? silentLogger;
    this.#redis = new Redis({ ...options.connection, maxRetriesPerRequest: 2, connectionName: 'blockyard-queue' });
    this.#redis.on('error', () => undefined); // the queue's own connection reports Redis errors
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The queue's name in Redis. */
  get name(): string {
    return this.#options.queueName;
  }

  async enqueue(job: ExecutionJob, options: { delayMs?: number } = {}): Promise<void> {
    if (this.#closed) throw new Error('queue is closed');
    const delay = options.delayMs && options.delayMs > 0 ? Math.round(options.delayMs) : undefined;
    const { snapshot: _snapshot, ...data } = job;
    await this.#producer().add('execution', data, delay ? { delay } : undefined);
  }

  lease(options: LeaseOptions): Promise<LeasedJob | null> {
    if (this.#closed) return Promise.resolve(null);
    if (options.waitMs <= 0) return this.#leaseNow(options.visibilityTimeoutMs);
    return new Promise((resolve) => {
      const request: LeaseRequest = {
        visibilityTimeoutMs: options.visibilityTimeoutMs,
        resolve,
        settled: false,
        timer: setTimeout(() => this.#settle(request, null), Math.max(0, options.waitMs)),
      };
      this.#requests.push(request);
      this.#pump(options.visibilityTimeoutMs);
    });
  }

  async extend(lease: LeasedJob, visibilityTimeoutMs: number): Promise<boolean> {
    const held = this.#leases.get(lease.leaseId);
    if (!held) return false;
    try {
      return Number(await held.job.extendLock(held.token, visibilityTimeoutMs)) === 1;
    } catch (e) {
      this.#logger.warn('execution queue: could not extend a lease', { executionId: lease.job.executionId, error: (e as Error).message });
      return false;
    }
  }

  /**
   * Completes the job. While this queue is open, the same call takes the next ready job (as
   * BullMQ's own workers do: one round trip instead of two), which the next lease() gets.
   */
  async ack(lease: LeasedJob): Promise<void> {
    const held = this.#leases.get(lease.leaseId);
    if (!held) return;
    this.#leases.delete(lease.leaseId);
    const worker = this.#worker;
    const fetchNext = !this.#closed && worker !== null;
    let next: unknown;
    try {
      next = await held.job.moveToCompleted(null, held.token, fetchNext);
    } catch (e) {
      if (!isLeaseLost(e)) throw e; // the lease ran out: the job is someone else's now
      return;
    }
    if (fetchNext && Array.isArray(next) && next[0]) await this.#takeFetched(worker!, next[0] as JobJsonRaw, String(next[1]), held.token);
  }

  async fail(lease: LeasedJob, reason: string): Promise<'retrying' | 'dead'> {
    const held = this.#leases.get(lease.leaseId);
    if (!held) return 'retrying';
    this.#leases.delete(lease.leaseId);
    const { job } = held;
    const last = lease.attempt >= this.#maxAttempts;
    try {
      await job.moveToFailed(last ? new UnrecoverableError(reason) : new Error(reason), held.token, false);
    } catch (e) {
      if (isLeaseLost(e)) return 'retrying';
      throw e;
    }
    if (!last) return 'retrying';
    await this.#reportDead(job, lease.attempt, reason);
    return 'dead';
  }

  onDead(listener: (dead: DeadJob) => void): void {
    this.#deadListeners.push(listener);
    // Whoever cares about dead jobs also looks for lost leases, even before it leases anything.
    if (!this.#closed) this.#ensureWorker(this.#lockDurationMs);
  }

  /**
   * Stops handing out jobs: pending lease() calls resolve to null and no more are fetched.
   * Leases already handed out can still be acked, failed and extended until `release()`.
   * Resolves once a fetch blocked in Redis has returned (within a second).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const request of [...this.#requests]) this.#settle(request, null);
    // No more stalled-job checks here either: a process shutting down declares no job dead.
    await this.#worker?.pause(true).catch(() => undefined);
    await this.#pumping;
    // Jobs fetched for no one go back, their unused delivery not counted.
    for (const { job, token } of this.#held.splice(0)) {
      try {
        // Uncounted first, while the lock keeps it ours: once back in wait, another may take it at once.
        await this.#redis.hincrby(`${this.#prefix}:${this.#options.queueName}:${job.id}`, 'ats', -1);
        await job.moveToWait(token);
      } catch {
        /* its lock runs out and it comes back anyway */
      }
    }
  }

  /**
   * Closes, then releases every Redis connection: nothing of this queue keeps the process
   * alive, and leases still out can no longer be acked (their jobs come back when their
   * locks run out).
   */
  release(): Promise<void> {
    this.#released ??= (async () => {
      await this.close();
      this.#leases.clear();
      await this.#worker?.close(true).catch(() => undefined);
      await this.#queue?.close().catch(() => undefined);
      await this.#redis.quit().catch(() => this.#redis.disconnect());
    })();
    return this.#released;
  }

  /**
   * Closes this handle's fetching and stalled-job checks, then removes every key of the queue
   * from Redis (tests; an operator's reset). Other handles on the queue should be released first.
   */
  async obliterate(): Promise<void> {
    await this.close();
    await this.#worker?.close(true).catch(() => undefined);
    await this.#producer().obliterate({ force: true });
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}:${this.#options.queueName}:*`, 'COUNT', 500);
      if (keys.length) await this.#redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  #producer(): Queue<JobData> {
    if (this.#queue) return this.#queue;
    const queue = new Queue<JobData>(this.#options.queueName, {
      connection: this.#options.connection,
      prefix: this.#prefix,
      defaultJobOptions: {
        attempts: this.#maxAttempts,
        backoff: { type: 'blockyard' },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
      },
    });
    queue.on('error', (e) => this.#logger.warn('execution queue: Redis error', { error: e.message }));
    return (this.#queue = queue);
  }

  #settle(request: LeaseRequest, lease: LeasedJob | null): boolean {
    if (request.settled) return false;
    request.settled = true;
    clearTimeout(request.timer);
    const i = this.#requests.indexOf(request);
    if (i >= 0) this.#requests.splice(i, 1);
    request.resolve(lease);
    return true;
  }

  /** One fetch loop per process, running while lease() calls wait: BullMQ blocks on one connection. */
  #pump(visibilityTimeoutMs: number): void {
    if (this.#pumping || this.#closed) return;
    const worker = this.#ensureWorker(visibilityTimeoutMs);
    this.#pumping = (async () => {
      while (!this.#closed && this.#requests.length) {
        const fetched = this.#held.shift() ?? (await this.#fetch(worker));
        if (!fetched) continue;
        const request = this.#requests[0];
        if (!request || this.#closed) {
          this.#held.push(fetched);
          continue;
        }
        const lease = await this.#toLease(fetched, request.visibilityTimeoutMs);
        if (lease && !this.#settle(request, lease)) {
          // the request timed out while the lease was made: keep the job for the next one
          this.#leases.delete(lease.leaseId);
          this.#held.push(fetched);
        }
      }
    })()
      .catch((e: unknown) => this.#logger.error('execution queue: fetch loop failed', { error: String(e) }))
      .finally(() => {
        this.#pumping = null;
        if (this.#requests.length && !this.#closed) this.#pump(this.#requests[0]!.visibilityTimeoutMs);
      });
  }

  /** lease() with waitMs 0: a job if one is ready, without waiting. */
  async #leaseNow(visibilityTimeoutMs: number): Promise<LeasedJob | null> {
    for (;;) {
      const fetched = this.#held.shift() ?? (await this.#fetch(this.#ensureWorker(visibilityTimeoutMs), false));
      if (!fetched) return null;
      const lease = await this.#toLease(fetched, visibilityTimeoutMs);
      if (lease) return lease;
    }
  }

  async #fetch(worker: Worker<JobData>, block = true): Promise<FetchedJob | null> {
    const token = randomUUID();
    try {
      const job = await worker.getNextJob(token, { block });
      return job ? { job, token, fetchedAt: Date.now() } : null;
    } catch (e) {
      if (this.#closed) return null;
      this.#logger.warn('execution queue: could not fetch a job, retrying', { error: (e as Error).message });
      await new Promise((r) => setTimeout(r, 500));
      return null;
    }
  }

  /**
   * A job BullMQ handed over with an ack (fetchNext): to a waiting lease() if there is one,
   * else kept for the next. One delivered beyond its attempts is failed unrun, as getNextJob does.
   */
  async #takeFetched(worker: Worker<JobData>, data: JobJsonRaw, jobId: string, token: string): Promise<void> {
    const job = Job.fromJSON<JobData>(worker, data, jobId);
    if (job.attemptsStarted > this.#maxAttempts) {
      await job.moveToFailed(new UnrecoverableError(STARTED_TOO_OFTEN), token, false).catch(() => undefined);
      await this.#reportDead(job, this.#maxAttempts, `the worker running it was lost (lease expired) on attempt ${this.#maxAttempts} of ${this.#maxAttempts}`);
      return;
    }
    const fetched: FetchedJob = { job, token, fetchedAt: Date.now() };
    const request = this.#requests[0];
    const lease = request && !this.#closed ? await this.#toLease(fetched, request.visibilityTimeoutMs) : null;
    if (lease && request && this.#settle(request, lease)) return;
    if (lease) this.#leases.delete(lease.leaseId);
    this.#held.push(fetched);
    if (this.#requests.length) this.#pump(this.#requests[0]!.visibilityTimeoutMs);
  }

  /** Applies the request's visibility timeout when it is not the lock BullMQ took; null if the lock is gone. */
  async #toLease({ job, token, fetchedAt }: FetchedJob, visibilityTimeoutMs: number): Promise<LeasedJob | null> {
    if (visibilityTimeoutMs !== this.#lockDurationMs || fetchedAt < Date.now() - 50) {
      const extended = await job.extendLock(token, visibilityTimeoutMs).catch(() => 0);
      if (Number(extended) !== 1) return null;
    }
    const leaseId = randomUUID();
    this.#leases.set(leaseId, { job, token });
    return { job: { ...job.data }, attempt: job.attemptsStarted, leaseId };
  }

  #ensureWorker(lockDurationMs: number): Worker<JobData> {
    if (this.#worker) return this.#worker;
    this.#lockDurationMs = lockDurationMs;
    const worker = new Worker<JobData>(this.#options.queueName, null, {
      connection: this.#options.connection,
      prefix: this.#prefix,
      autorun: false,
      lockDuration: lockDurationMs,
      stalledInterval: this.#options.stalledCheckIntervalMs ?? 15_000,
      // Lost leases go back to wait however often: attempts are counted by maxStartedAttempts.
      maxStalledCount: 1_000_000,
      maxStartedAttempts: this.#maxAttempts,
      drainDelay: 1,
      // BullMQ hands the job over; its attemptsStarted is the delivery that just failed.
      settings: { backoffStrategy: (made: number, _type?: string, _err?: Error, job?: unknown) => this.#backoff((job as Job | undefined)?.attemptsStarted ?? made) },
    });
    worker.on('error', (e) => this.#logger.warn('execution queue: Redis error', { error: e.message }));
    // A job delivered beyond its attempts (its last holder was lost): BullMQ failed it unrun.
    worker.on('failed', (job, error) => {
      if (job && error?.message === STARTED_TOO_OFTEN) {
        void this.#reportDead(job, this.#maxAttempts, `the worker running it was lost (lease expired) on attempt ${this.#maxAttempts} of ${this.#maxAttempts}`);
      }
    });
    worker.on('stalled', (jobId) => {
      this.#logger.debug('execution queue: lease lost, job back to wait', { jobId });
      void this.#onLeaseLost(worker, jobId);
    });
    void worker.startStalledCheckTimer().catch((e: unknown) => this.#logger.warn('execution queue: stalled-job check failed', { error: String(e) }));
    this.#worker = worker;
    return worker;
  }

  /** A lease ran out and BullMQ put the job back: if that was its last attempt, it is dead now. */
  async #onLeaseLost(worker: Worker<JobData>, jobId: string): Promise<void> {
    if (!this.#deadListeners.length || this.#closed) return; // a live process with listeners, or the next fetch, will report it
    try {
      const job = await Job.fromId<JobData>(worker, jobId);
      if (!job || job.attemptsStarted < this.#maxAttempts) return;
      // Its attempts are used up, unless a consumer took it meanwhile for its last attempt:
      // then it is locked and cannot be removed, and is that consumer's to finish.
      if (!(await job.remove().then(
        () => true,
        () => false,
      )))
        return;
      const reason = `the worker running it was lost (lease expired) on attempt ${this.#maxAttempts} of ${this.#maxAttempts}`;
      await this.#reportDead(job, this.#maxAttempts, reason);
    } catch (e) {
      this.#logger.warn('execution queue: could not check a lost lease', { jobId, error: (e as Error).message });
    }
  }

  async #reportDead(job: Job<JobData>, attempts: number, reason: string): Promise<void> {
    try {
      if (!(await this.#claimDead(job.id!))) return;
    } catch (e) {
      this.#logger.warn('execution queue: could not claim a dead job, reporting it anyway', { error: (e as Error).message });
    }
    this.#emitDead({ job: { ...job.data }, attempts, reason });
  }

  /** True for the one process that gets to report this job dead. */
  async #claimDead(jobId: string): Promise<boolean> {
    const key = `${this.#prefix}:${this.#options.queueName}:dead-claim:${jobId}`;
    return (await this.#redis.set(key, '1', 'PX', DEAD_CLAIM_MS, 'NX')) === 'OK';
  }

  #emitDead(dead: DeadJob): void {
    for (const listener of this.#deadListeners) {
      try {
        listener({ ...dead, job: { ...dead.job } });
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}

function isLeaseLost(error: unknown): boolean {
  return LEASE_LOST_CODES.has(Number((error as { code?: unknown } | null)?.code));
}
