import { expect } from 'chai';
import { finalizeConnectionStatements, sqliteRun, type SqliteConnection } from './sqlite-raw.js';

/** A stand-in sqlite3 connection whose statements answer only when told to. */
function fakeConnection() {
  const prepared: Array<{ sql: string; finalized: boolean; pending: Array<() => void> }> = [];
  const connection: SqliteConnection = {
    prepare(sql: string) {
      const record = { sql, finalized: false, pending: [] as Array<() => void> };
      prepared.push(record);
      return {
        run: (_bindings: readonly unknown[], callback: (this: { changes: number; lastID: number }, error: Error | null) => void) => {
          record.pending.push(() => callback.call({ changes: 1, lastID: 0 }, null));
        },
        all: () => expect.fail('not used'),
        finalize: () => {
          record.finalized = true;
        },
      };
    },
    exec: () => expect.fail('not used'),
  };
  /** Answers every run waiting on every statement. */
  const answerAll = () => {
    for (const record of prepared) for (const answer of record.pending.splice(0)) answer();
  };
  return { connection, prepared, answerAll };
}

describe('sqlite-raw prepared statements', () => {
  it('gives a run of an SQL text already running a second prepared statement, and reuses idle ones after', async () => {
    const { connection, prepared, answerAll } = fakeConnection();
    const first = [sqliteRun(connection, 'UPDATE t SET a = ?', [1]), sqliteRun(connection, 'UPDATE t SET a = ?', [2]), sqliteRun(connection, 'INSERT INTO t VALUES (?)', [3])];
    // Each run in flight has a statement of its own: none waits behind another's answer.
    expect(prepared.map((p) => p.sql)).to.deep.equal(['UPDATE t SET a = ?', 'UPDATE t SET a = ?', 'INSERT INTO t VALUES (?)']);
    expect(prepared.map((p) => p.pending.length)).to.deep.equal([1, 1, 1]);
    answerAll();
    expect(await Promise.all(first)).to.deep.equal([1, 1, 1]);
    // Idle again: the next runs take the statements prepared before.
    const second = [sqliteRun(connection, 'UPDATE t SET a = ?', [4]), sqliteRun(connection, 'UPDATE t SET a = ?', [5])];
    expect(prepared).to.have.length(3);
    answerAll();
    await Promise.all(second);
    finalizeConnectionStatements(connection);
    expect(prepared.every((p) => p.finalized)).to.equal(true);
  });

  it('finalizes a statement given back after its connection was finalized, instead of keeping it', async () => {
    const { connection, prepared, answerAll } = fakeConnection();
    const running = sqliteRun(connection, 'DELETE FROM t', []);
    finalizeConnectionStatements(connection);
    expect(prepared[0]!.finalized).to.equal(false); // in use: left to finish
    answerAll();
    await running;
    expect(prepared[0]!.finalized).to.equal(true);
  });
});
