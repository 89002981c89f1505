import type { Knex } from 'knex';
import type { WriteRunner } from './write-runner.js';

interface QueuedWrite {
  fn: (db: Knex) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Most writes committed by one transaction. Default 256. */
  maxBatchSize?: number;
}

/**
 * Group commit: writes that arrive while a transaction is committing wait and then share the
 * next transaction, so many writes cost one durable commit (one fsync) instead of one each.
 *
 * Each write runs in its own savepoint inside the batch's transaction: a write that fails
 * (a duplicate key, say) is rolled back and rejects its own caller only. A caller's promise
 * settles after the batch has committed, so a resolved write is durable. Writes run one after
 * another on the transaction's connection; `fn` must use only the `db` it is given and must
 * not call `run` itself (it would wait for its own batch).
 */
export class GroupCommitter implements WriteRunner {
  private readonly queue: QueuedWrite[] = [];
  private readonly maxBatchSize: number;
  private draining: Promise<void> | null = null;
  private batches = 0;

  constructor(
    private readonly knex: Knex,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 256);
  }

  /** How many batch transactions have committed so far. */
  get committedBatches(): number {
    return this.batches;
  }

  run<T>(fn: (db: Knex) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.commitBatch();
    } finally {
      this.draining = null;
    }
  }

  private async commitBatch(): Promise<void> {
    let batch: QueuedWrite[] = [];
    const outcomes: Outcome[] = [];
    try {
      await this.knex.transaction(async (trx) => {
        // Taken only now, once BEGIN is done, so that writes arriving meanwhile join in.
        batch = this.queue.splice(0, this.maxBatchSize);
        for (const write of batch) {
          try {
            outcomes.push({ ok: true, value: await trx.transaction((savepoint) => write.fn(savepoint)) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // BEGIN or COMMIT failed: nothing of this batch is stored.
      if (batch.length === 0) batch = this.queue.splice(0, this.maxBatchSize);
      for (const write of batch) write.reject(error);
      return;
    }
    this.batches += 1;
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }
}
