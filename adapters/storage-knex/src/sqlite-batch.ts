import { sqliteExec, sqliteRun, type SqliteConnection } from './sqlite-raw.js';

/** One SQL statement with its bindings, as the sqlite3 driver takes it. */
export interface NativeStatement {
  sql: string;
  bindings: readonly unknown[];
}

/** What one statement of a batch did: the rows it changed, or its error. */
export type StatementOutcome = { ok: true; value: number } | { ok: false; error: unknown };

/**
 * Runs batches of single statements as one SQLite transaction each: the group commit's fast
 * path. A failing statement is answered as its own outcome (SQLite undoes only that statement);
 * the batch rejects, with nothing stored, only when BEGIN or COMMIT fails.
 */
export interface SqliteStatementBatches {
  run(statements: readonly NativeStatement[]): Promise<StatementOutcome[]>;
  /** Stops taking batches and closes what it opened (a batch in flight finishes first). */
  close(): Promise<void>;
}

/** BEGIN IMMEDIATE, the statements side by side, COMMIT, on one sqlite3 connection. */
export async function runStatementBatch(connection: SqliteConnection, statements: readonly NativeStatement[]): Promise<StatementOutcome[]> {
  await sqliteExec(connection, 'BEGIN IMMEDIATE');
  try {
    const outcomes = await Promise.all(
      statements.map((statement) =>
        sqliteRun(connection, statement.sql, statement.bindings).then(
          (value): StatementOutcome => ({ ok: true, value }),
          (error: unknown): StatementOutcome => ({ ok: false, error }),
        ),
      ),
    );
    await sqliteExec(connection, 'COMMIT');
    return outcomes;
  } catch (error) {
    await sqliteExec(connection, 'ROLLBACK').catch(() => undefined);
    throw error;
  }
}
