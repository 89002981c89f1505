import type { ExecutionQueue, LeasedJob } from '../execution/execution-queue.port.js';
import type { Logger } from '../system/logger.port.js';
import type { ExecutionRunner } from '../use-cases/execution-runner.js';

export interface ExecutionWorkerOptions {
  /** Executions run at once by this worker. Default 16. */
  concurrency?: number;
  /** Lease length; the worker extends it every third of it while a run goes on. Default 30 s. */
  visibilityTimeoutMs?: number;
  /** How long one lease call waits for work. Default 1 s. */
  pollMs?: number;
}

/** Pulls execution jobs from the queue and runs them, `concurrency` at a time. */
export class ExecutionWorker {
  readonly #concurrency: number;
  readonly #visibilityTimeoutMs: number;
  readonly #pollMs: number;
  #loops: Promise<void>[] = [];
  #stopping = false;

  constructor(
    private readonly queue: ExecutionQueue,
    private readonly runner: ExecutionRunner,
    private readonly logger: Logger,
    options: ExecutionWorkerOptions = {},
  ) {
    this.#concurrency = options.concurrency ?? 16;
    this.#visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 1_000;
    queue.onDead((dead) => {
      this.logger.warn('execution job dead', { executionId: dead.job.executionId, attempts: dead.attempts, reason: dead.reason });
      this.runner.onDeadJob(dead).catch((e: unknown) => this.logger.error('could not mark a dead execution failed', { executionId: dead.job.executionId, error: String(e) }));
    });
  }

  start(): void {
    if (this.#loops.length) return;
    this.#stopping = false;
    for (let i = 0; i < this.#concurrency; i++) this.#loops.push(this.#loop());
  }

  /** Stops taking work and waits for the runs in flight to end. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      let lease: LeasedJob | null;
      try {
        lease = await this.queue.lease({ visibilityTimeoutMs: this.#visibilityTimeoutMs, waitMs: this.#pollMs });
      } catch (e) {
        this.logger.error('queue lease failed', { error: String(e) });
        await new Promise((r) => setTimeout(r, this.#pollMs));
        continue;
      }
      if (lease) await this.#process(lease);
      else if (this.queue.closed) break;
    }
  }

  async #process(lease: LeasedJob): Promise<void> {
    const heartbeat = setInterval(() => {
      this.queue.extend(lease, this.#visibilityTimeoutMs).catch(() => undefined);
    }, Math.max(10, Math.floor(this.#visibilityTimeoutMs / 3)));
    heartbeat.unref?.();
    try {
      await this.runner.runJob(lease.job, lease.attempt);
      await this.queue.ack(lease);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.logger.error('execution attempt failed', { executionId: lease.job.executionId, attempt: lease.attempt, reason });
      await this.queue.fail(lease, reason).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  }
}
