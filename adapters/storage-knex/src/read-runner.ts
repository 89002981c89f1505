import type { Knex } from 'knex';
import { nativeSql, sqliteAll, withSqliteConnection } from './sqlite-raw.js';

/** How the repositories read: a query built with knex, run by the dialect's fastest path. */
export interface ReadRunner {
  /** The knex instance to build read queries with. */
  readonly knex: Knex;
  all<T>(query: Knex.QueryBuilder): Promise<T[]>;
  first<T>(query: Knex.QueryBuilder): Promise<T | undefined>;
}

/** Reads through knex itself (PostgreSQL, and SQLite in memory). */
export class KnexReadRunner implements ReadRunner {
  constructor(readonly knex: Knex) {}

  async all<T>(query: Knex.QueryBuilder): Promise<T[]> {
    return (await query) as T[];
  }

  async first<T>(query: Knex.QueryBuilder): Promise<T | undefined> {
    return (await query.first()) as T | undefined;
  }
}

/** Reads on SQLite's read-only connections, run by the driver directly. */
export class SqliteReadRunner implements ReadRunner {
  constructor(readonly knex: Knex) {}

  all<T>(query: Knex.QueryBuilder): Promise<T[]> {
    const { sql, bindings } = nativeSql(query);
    return withSqliteConnection(this.knex, (connection) => sqliteAll<T>(connection, sql, bindings));
  }

  async first<T>(query: Knex.QueryBuilder): Promise<T | undefined> {
    const [row] = await this.all<T>(query.limit(1));
    return row;
  }
}
