import type { Knex } from 'knex';
import { runStatementBatch, type SqliteStatementBatches } from './sqlite-batch.js';
import { nativeSql, withSqliteConnection } from './sqlite-raw.js';
import { countChanges, type WriteRunner, type WriteStatement } from './write-runner.js';

interface QueuedWrite {
  execute: (trx: Knex.Transaction) => Promise<unknown>;
  /** For a single statement: its SQL, for the SQLite driver path. */
  statement?: { sql: string; bindings: readonly unknown[] };
  /** A single statement that may run beside the batch's other statements, without a savepoint. */
  concurrent: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Times it met SQLITE_BUSY inside a batch and was put back for the next one. */
  busyRetries?: number;
}

/**
 * How often a write inside a knex transaction batch that meets SQLITE_BUSY is run again in the
 * next batch. Such a batch begins deferred (knex's `BEGIN`): a write after a read of the same
 * transaction fails at once, without waiting, when another connection (another process on the
 * same file) committed in between. Its savepoint is rolled back, so running it again is safe.
 */
const MAX_BUSY_RETRIES = 5;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Most writes committed by one transaction. Default 256. */
  maxBatchSize?: number;
  /**
   * True when a failing statement undoes only itself and leaves its transaction usable, as in
   * SQLite (a constraint violation aborts the statement, not the transaction). Single-statement
   * writes then run side by side without savepoints. False (the default) gives every write a
   * savepoint, as PostgreSQL needs: there any error aborts the whole transaction.
   */
  atomicStatements?: boolean;
  /**
   * SQLite only: a batch of single statements runs on the pooled sqlite3 connection directly
   * (BEGIN IMMEDIATE, the statements, COMMIT), skipping knex's per-query runner. Batches with a
   * multi-statement `run` go through a knex transaction as usual. Implies atomicStatements.
   */
  sqliteDriver?: boolean;
  /**
   * SQLite only, with sqliteDriver: where those batches of single statements run instead of
   * the pooled connection (a SqliteWriteThread, for a file database).
   */
  statementBatches?: SqliteStatementBatches;
}

/**
 * Group commit: writes that arrive while a transaction is committing wait and then share the
 * next transaction, so many writes cost one durable commit (one fsync) instead of one each.
 *
 * A write rejects its own caller only: a failing `run` is rolled back to its savepoint, and a
 * failing `runStatement` to its savepoint too, or, with `atomicStatements`, by the database's
 * own statement rollback. Every caller settles after its batch has committed, so a resolved
 * write is durable. Within a batch, single statements run first, concurrently, then the
 * `run` writes one after another; callers in one batch were concurrent, so any order is theirs.
 * `fn` must use only the `db` it is given and must not call the committer itself (it would
 * wait for its own batch).
 */
export class GroupCommitter implements WriteRunner {
  private readonly queue: QueuedWrite[] = [];
  private readonly maxBatchSize: number;
  private readonly atomicStatements: boolean;
  private readonly sqliteDriver: boolean;
  private readonly statementBatches: SqliteStatementBatches | null;
  private draining: Promise<void> | null = null;
  private batches = 0;

  constructor(
    private readonly knex: Knex,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 256);
    this.sqliteDriver = options.sqliteDriver ?? false;
    this.statementBatches = this.sqliteDriver ? (options.statementBatches ?? null) : null;
    this.atomicStatements = this.sqliteDriver || (options.atomicStatements ?? false);
  }

  /** How many batch transactions have committed so far. */
  get committedBatches(): number {
    return this.batches;
  }

  /** `fn` may run more than once (see MAX_BUSY_RETRIES): it must only use `db`. */
  run<T>(fn: (db: Knex) => Promise<T>): Promise<T> {
    return this.enqueue((trx) => trx.transaction((savepoint) => fn(savepoint)), false);
  }

  runStatement<T>(build: (db: Knex) => WriteStatement): Promise<T> {
    // Promise.resolve runs the builder (a thenable that queries on every then) exactly once.
    const statement = (db: Knex) => Promise.resolve(build(db) as PromiseLike<T>);
    if (this.sqliteDriver) {
      let native: { sql: string; bindings: readonly unknown[] };
      try {
        native = nativeSql(build(this.knex));
      } catch (error) {
        return Promise.reject(error);
      }
      return this.enqueue(statement, true, native);
    }
    return this.atomicStatements ? this.enqueue(statement, true) : this.run(statement);
  }

  runCounted(build: (db: Knex) => WriteStatement): Promise<number> {
    // Through knex it runs alone in its savepoint, so that SQLite's changes() counts it; on the
    // driver path it is a statement like any other (the driver answers its changes).
    const counted = (trx: Knex.Transaction) => trx.transaction((savepoint) => countChanges(savepoint, build(savepoint)));
    if (!this.sqliteDriver) return this.enqueue(counted, false);
    let native: { sql: string; bindings: readonly unknown[] };
    try {
      native = nativeSql(build(this.knex));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(counted, false, native);
  }

  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private enqueue<T>(execute: (trx: Knex.Transaction) => Promise<T>, concurrent: boolean, statement?: QueuedWrite['statement']): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ execute, concurrent, statement, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.commitBatch();
    } finally {
      this.draining = null;
    }
  }

  private async commitBatch(): Promise<void> {
    if (this.sqliteDriver && this.queue.slice(0, this.maxBatchSize).every((write) => write.statement)) return this.commitStatementBatch();
    let batch: QueuedWrite[] = [];
    const outcomes: Outcome[] = [];
    try {
      await this.knex.transaction(async (trx) => {
        // Taken only now, once BEGIN is done, so that writes arriving meanwhile join in.
        batch = this.queue.splice(0, this.maxBatchSize);
        await Promise.all(
          batch.map(async (write, i) => {
            if (write.concurrent) outcomes[i] = await settle(() => write.execute(trx));
          }),
        );
        for (const [i, write] of batch.entries()) {
          if (!write.concurrent) outcomes[i] = await settle(() => write.execute(trx));
        }
      });
    } catch (error) {
      // BEGIN or COMMIT failed: nothing of this batch is stored.
      if (batch.length === 0) batch = this.queue.splice(0, this.maxBatchSize);
      for (const write of batch) write.reject(error);
      return;
    }
    // Writes that met SQLITE_BUSY were rolled back to their savepoints: run them again first.
    const again = batch.filter((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok || !isSqliteBusy(outcome.error) || (write.busyRetries ?? 0) >= MAX_BUSY_RETRIES) return false;
      write.busyRetries = (write.busyRetries ?? 0) + 1;
      return true;
    });
    this.queue.unshift(...again);
    this.committed(
      batch.filter((write) => !again.includes(write)),
      outcomes.filter((_, i) => !again.includes(batch[i]!)),
    );
  }

  /**
   * The SQLite driver path: BEGIN IMMEDIATE, the statements side by side, COMMIT, on the
   * writer thread when there is one, else on the pooled connection.
   */
  private async commitStatementBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatchSize);
    const statements = batch.map((write) => write.statement!);
    let outcomes: Outcome[];
    try {
      outcomes = this.statementBatches
        ? await this.statementBatches.run(statements)
        : await withSqliteConnection(this.knex, (connection) => runStatementBatch(connection, statements));
    } catch (error) {
      for (const write of batch) write.reject(error);
      return;
    }
    this.committed(batch, outcomes);
  }

  /** The batch is durable: answer each caller with its own write's outcome. */
  private committed(batch: readonly QueuedWrite[], outcomes: readonly Outcome[]): void {
    this.batches += 1;
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }
}

function isSqliteBusy(error: unknown): boolean {
  return error instanceof Error && (error as Error & { code?: unknown }).code === 'SQLITE_BUSY';
}

async function settle(write: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await write() };
  } catch (error) {
    return { ok: false, error };
  }
}
