import type { Knex } from 'knex';

/**
 * The driver-level side of the SQLite hot path. knex builds the SQL; these run it straight on
 * a pooled sqlite3 connection, skipping knex's per-query runner (about 70 µs a statement, more
 * than SQLite itself takes).
 */
export interface SqliteConnection {
  prepare(sql: string, callback?: (error: Error | null) => void): SqliteStatement;
  exec(sql: string, callback: (error: Error | null) => void): void;
}

/** A prepared statement of the sqlite3 driver; reusable, its runs queue in order. */
interface SqliteStatement {
  run(bindings: readonly unknown[], callback: (this: { changes: number; lastID: number }, error: Error | null) => void): void;
  all(bindings: readonly unknown[], callback: (error: Error | null, rows: unknown[]) => void): void;
  finalize(callback?: () => void): void;
}

/**
 * Prepared statements kept per connection and SQL text, idle ones only: preparing costs more
 * than running. The driver runs one statement object's calls one after another, each waiting
 * for the last one's callback on the main thread; so a statement in use is taken out, and a
 * second run of the same SQL meanwhile (a group commit of many executions' same update) gets
 * another. The runs then queue in the driver's threads and SQLite's own lock, not behind the
 * main thread's turns.
 */
const statementCaches = new WeakMap<SqliteConnection, StatementCache>();

interface StatementCache {
  /** Idle statements by SQL. */
  idle: Map<string, SqliteStatement[]>;
  /** How many idle statements there are in all. */
  count: number;
}

/** Most idle statements kept per connection; past it, all idle ones are finalized. */
const MAX_CACHED_PER_CONNECTION = 512;
/** Most idle statements of one SQL text kept per connection. */
const MAX_IDLE_PER_SQL = 32;

function cacheOf(connection: SqliteConnection): StatementCache {
  let cache = statementCaches.get(connection);
  if (!cache) statementCaches.set(connection, (cache = { idle: new Map(), count: 0 }));
  return cache;
}

/** An idle statement for `sql` (prepared now if none is), taken out of the cache until `release`. */
function takeStatement(connection: SqliteConnection, sql: string): SqliteStatement {
  const cache = cacheOf(connection);
  const statement = cache.idle.get(sql)?.pop();
  if (statement) {
    cache.count -= 1;
    return statement;
  }
  return connection.prepare(sql);
}

/** Gives a statement back once its run has answered. */
function releaseStatement(connection: SqliteConnection, sql: string, statement: SqliteStatement): void {
  const cache = statementCaches.get(connection);
  if (!cache) {
    statement.finalize(); // its connection's cache was finalized meanwhile
    return;
  }
  if (cache.count >= MAX_CACHED_PER_CONNECTION) finalizeAll(cache);
  let idle = cache.idle.get(sql);
  if (!idle) cache.idle.set(sql, (idle = []));
  if (idle.length >= MAX_IDLE_PER_SQL) {
    statement.finalize();
    return;
  }
  idle.push(statement);
  cache.count += 1;
}

function finalizeAll(cache: StatementCache): void {
  for (const statements of cache.idle.values()) for (const statement of statements) statement.finalize();
  cache.idle.clear();
  cache.count = 0;
}

/** The connections of each knex instance that hold cached statements. */
const connectionsOf = new WeakMap<Knex, Set<SqliteConnection>>();

/** Finalizes the statements cached on a knex instance's connections: call before destroying it. */
export function finalizeCachedStatements(knex: Knex): void {
  for (const connection of connectionsOf.get(knex) ?? []) finalizeConnectionStatements(connection);
  connectionsOf.delete(knex);
}

/** Finalizes the statements cached on one connection: call before closing it. */
export function finalizeConnectionStatements(connection: SqliteConnection): void {
  const cache = statementCaches.get(connection);
  if (cache) finalizeAll(cache);
  statementCaches.delete(connection);
}

interface PoolClient {
  acquireConnection(): Promise<SqliteConnection>;
  releaseConnection(connection: SqliteConnection): Promise<unknown> | unknown;
}

/** Runs `fn` on a connection taken from the knex instance's pool, and gives it back. */
export async function withSqliteConnection<T>(knex: Knex, fn: (connection: SqliteConnection) => Promise<T>): Promise<T> {
  const client = knex.client as unknown as PoolClient;
  const connection = await client.acquireConnection();
  let connections = connectionsOf.get(knex);
  if (!connections) connectionsOf.set(knex, (connections = new Set()));
  connections.add(connection);
  try {
    return await fn(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}

export function sqliteRun(connection: SqliteConnection, sql: string, bindings: readonly unknown[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const statement = takeStatement(connection, sql);
    statement.run(bindings, function (error) {
      releaseStatement(connection, sql, statement);
      if (error) reject(error);
      else resolve(this.changes);
    });
  });
}

export function sqliteAll<T>(connection: SqliteConnection, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const statement = takeStatement(connection, sql);
    statement.all(bindings, (error, rows) => {
      releaseStatement(connection, sql, statement);
      if (error) reject(error);
      else resolve(rows as T[]);
    });
  });
}

export function sqliteExec(connection: SqliteConnection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => connection.exec(sql, (error) => (error ? reject(error) : resolve())));
}

/** The SQL and bindings knex would send for a builder. */
export function nativeSql(builder: Knex.QueryBuilder | Knex.Raw): { sql: string; bindings: readonly unknown[] } {
  const { sql, bindings } = builder.toSQL().toNative();
  return { sql, bindings };
}
