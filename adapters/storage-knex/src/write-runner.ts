import type { Knex } from 'knex';

/** How the repositories write: `fn` gets the connection (or transaction) to write through. */
export interface WriteRunner {
  run<T>(fn: (db: Knex) => Promise<T>): Promise<T>;
  /** Resolves once every write handed to `run` so far has settled. */
  flush(): Promise<void>;
}

/** Each write runs on its own pooled connection, committing by itself (PostgreSQL). */
export class DirectWriteRunner implements WriteRunner {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly knex: Knex) {}

  run<T>(fn: (db: Knex) => Promise<T>): Promise<T> {
    // Promise.resolve runs a returned knex builder (a thenable that queries on each then) once.
    const write = Promise.resolve(fn(this.knex));
    const settled: Promise<unknown> = write.then(
      () => this.pending.delete(settled),
      () => this.pending.delete(settled),
    );
    this.pending.add(settled);
    return write;
  }

  async flush(): Promise<void> {
    await Promise.all(this.pending);
  }
}
