import type { Execution } from './execution.js';

/** What the queue carries: which execution to run. */
export interface ExecutionJob {
  executionId: string;
  /** For an agent execution: the node run to run (absent: start or resume the execution). */
  nodeRunId?: string;
  /** Identifies this job of a node run, so that a duplicate job does not run it twice. */
  token?: string;
  /** Set when re-enqueued after a restart of a queue that keeps nothing: lost node jobs are re-sent. */
  recover?: boolean;
  /**
   * The execution as it was enqueued, so that a worker in the same process can skip reading
   * it back. Only a hint (storage's compare-and-set still decides); a queue that crosses
   * processes may drop it.
   */
  snapshot?: Execution;
}

/** A job handed to one worker until it acks it, fails it, or its lease runs out. */
export interface LeasedJob {
  readonly job: ExecutionJob;
  /** 1 on first delivery, then 2, 3 ... for redeliveries. */
  readonly attempt: number;
  readonly leaseId: string;
}

export interface DeadJob {
  job: ExecutionJob;
  attempts: number;
  reason: string;
}

export interface LeaseOptions {
  /** How long the job stays invisible to other workers unless extended. */
  visibilityTimeoutMs: number;
  /** How long to wait for a job when none is ready (0: do not wait). */
  waitMs: number;
}

/**
 * At-least-once delivery of execution jobs: a job leased and not acked within its visibility
 * timeout is delivered again; a failed job is retried with backoff until `maxAttempts`, then dead.
 */
export interface ExecutionQueue {
  /** True when jobs survive a restart of this process (so no recovery from storage is needed). */
  readonly durable: boolean;
  /** True once close() was called. */
  readonly closed: boolean;
  enqueue(job: ExecutionJob, options?: { delayMs?: number }): Promise<void>;
  /** The next ready job, or null after waiting `waitMs` (or when the queue is closed). */
  lease(options: LeaseOptions): Promise<LeasedJob | null>;
  /** Keeps a long-running job leased. False if the lease was already lost. */
  extend(lease: LeasedJob, visibilityTimeoutMs: number): Promise<boolean>;
  ack(lease: LeasedJob): Promise<void>;
  /** Gives the job back for a retry after backoff; after the last attempt it is dead. */
  fail(lease: LeasedJob, reason: string): Promise<'retrying' | 'dead'>;
  /** Called for each job that runs out of attempts, through fail() or lost leases. */
  onDead(listener: (dead: DeadJob) => void): void;
  /** Stops handing out jobs; pending lease() calls resolve to null. */
  close(): Promise<void>;
}
export const ExecutionQueue = Symbol.for('blockyard/ExecutionQueue');
