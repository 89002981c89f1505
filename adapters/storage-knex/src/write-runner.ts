import type { Knex } from 'knex';

/** One SQL statement, built but not yet run (knex runs a builder when it is awaited). */
export type WriteStatement = Knex.QueryBuilder | Knex.Raw;

/** How the repositories write. */
export interface WriteRunner {
  /** Runs a write of any number of statements, all or nothing; `fn` writes through `db` only. */
  run<T>(fn: (db: Knex) => Promise<T>): Promise<T>;
  /** Runs one statement (cheaper to batch than `run`); answers what knex answers for it. */
  runStatement<T = unknown>(build: (db: Knex) => WriteStatement): Promise<T>;
  /** Resolves once every write handed over so far has settled. */
  flush(): Promise<void>;
}

/** Each write runs on its own pooled connection and commits by itself (PostgreSQL). */
export class DirectWriteRunner implements WriteRunner {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly knex: Knex) {}

  run<T>(fn: (db: Knex) => Promise<T>): Promise<T> {
    return this.track(this.knex.transaction((trx) => fn(trx)));
  }

  runStatement<T>(build: (db: Knex) => WriteStatement): Promise<T> {
    // Promise.resolve runs the builder (a thenable that queries on every then) exactly once.
    return this.track(Promise.resolve(build(this.knex) as PromiseLike<T>));
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
