import type { Knex } from 'knex';

/** One SQL statement, built but not yet run (knex runs a builder when it is awaited). */
export type WriteStatement = Knex.QueryBuilder | Knex.Raw;

/** How the repositories write. */
export interface WriteRunner {
  /** Runs a write of any number of statements, all or nothing; `fn` writes through `db` only. */
  run<T>(fn: (db: Knex) => Promise<T>): Promise<T>;
  /** Runs one statement (cheaper to batch than `run`); answers what knex answers for it. */
  runStatement<T = unknown>(build: (db: Knex) => WriteStatement): Promise<T>;
  /**
   * Runs one statement (an INSERT, UPDATE or DELETE without RETURNING, or a PostgreSQL statement
   * that returns rows) and answers how many rows it changed (returned), whatever knex would
   * answer for it: on SQLite knex answers an INSERT with its lastID, this with its changes.
   * As cheap to batch as `runStatement` on SQLite's driver path. For compare-and-sets, including
   * inserts that may do nothing (ON CONFLICT DO NOTHING).
   */
  runCounted(build: (db: Knex) => WriteStatement): Promise<number>;
  /** Resolves once every write handed over so far has settled. */
  flush(): Promise<void>;
}

/**
 * Runs a statement through knex on `db` and counts the rows it changed: knex answers a count
 * (UPDATE, DELETE), a pg result (its rowCount) or, for a SQLite INSERT, `[lastID]`: then SQLite's
 * `changes()`, which must run on the same connection right after (`db` a transaction).
 */
export async function countChanges(db: Knex, statement: WriteStatement): Promise<number> {
  const result: unknown = await Promise.resolve(statement as PromiseLike<unknown>);
  if (typeof result === 'number') return result;
  if (result !== null && typeof result === 'object' && 'rowCount' in result && typeof result.rowCount === 'number') return result.rowCount;
  const [row] = (await db.raw('select changes() as changed')) as Array<{ changed: number }>;
  return Number(row?.changed ?? 0);
}

/** Each write runs on its own pooled connection and commits by itself (PostgreSQL). */
export class DirectWriteRunner implements WriteRunner {
  private readonly pending = new Set<Promise<unknown>>();
  /** SQLite needs `changes()` to count an INSERT, on the same connection: in a transaction. */
  private readonly sqlite: boolean;

  constructor(private readonly knex: Knex) {
    this.sqlite = /sqlite/i.test(String(knex.client.config.client));
  }

  run<T>(fn: (db: Knex) => Promise<T>): Promise<T> {
    return this.track(this.knex.transaction((trx) => fn(trx)));
  }

  runStatement<T>(build: (db: Knex) => WriteStatement): Promise<T> {
    // Promise.resolve runs the builder (a thenable that queries on every then) exactly once.
    return this.track(Promise.resolve(build(this.knex) as PromiseLike<T>));
  }

  runCounted(build: (db: Knex) => WriteStatement): Promise<number> {
    if (this.sqlite) return this.track(this.knex.transaction((trx) => countChanges(trx, build(trx))));
    return this.track(countChanges(this.knex, build(this.knex)));
  }

  async flush(): Promise<void> {
    await Promise.all(this.pending);
  }

  private track<T>(write: Promise<T>): Promise<T> {
    const settled: Promise<unknown> = write.then(
      () => this.pending.delete(settled),
      () => this.pending.delete(settled),
    );
    this.pending.add(settled);
    return write;
  }
}
