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

/** Statements prepared once per connection and SQL text: preparing costs more than running. */
const statementCaches = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();
const MAX_CACHED_PER_CONNECTION = 128;

function statementFor(connection: SqliteConnection, sql: string): SqliteStatement {
  let cache = statementCaches.get(connection);
  if (!cache) statementCaches.set(connection, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) {
    if (cache.size >= MAX_CACHED_PER_CONNECTION) finalizeAll(cache);
    statement = connection.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

function finalizeAll(cache: Map<string, SqliteStatement>): void {
  for (const statement of cache.values()) statement.finalize();
  cache.clear();
}

/** The connections of each knex instance that hold cached statements. */
const connectionsOf = new WeakMap<Knex, Set<SqliteConnection>>();

/** Finalizes the statements cached on a knex instance's connections: call before destroying it. */
export function finalizeCachedStatements(knex: Knex): void {
  for (const connection of connectionsOf.get(knex) ?? []) {
    const cache = statementCaches.get(connection);
    if (cache) finalizeAll(cache);
    statementCaches.delete(connection);
  }
  connectionsOf.delete(knex);
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
    statementFor(connection, sql).run(bindings, function (error) {
      if (error) reject(error);
      else resolve(this.changes);
    });
  });
}

export function sqliteAll<T>(connection: SqliteConnection, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => statementFor(connection, sql).all(bindings, (error, rows) => (error ? reject(error) : resolve(rows as T[]))));
}

export function sqliteExec(connection: SqliteConnection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => connection.exec(sql, (error) => (error ? reject(error) : resolve())));
}

/** The SQL and bindings knex would send for a builder. */
export function nativeSql(builder: Knex.QueryBuilder | Knex.Raw): { sql: string; bindings: readonly unknown[] } {
  const { sql, bindings } = builder.toSQL().toNative();
  return { sql, bindings };
}
