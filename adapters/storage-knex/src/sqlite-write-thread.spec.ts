import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import sqlite3 from 'sqlite3';
import { SqliteWriteThread } from './sqlite-write-thread.js';

const SETUP = 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 200;';

function open(filename: string): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(filename, (error) => (error ? reject(error) : resolve(db)));
  });
}
const exec = (db: sqlite3.Database, sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
const all = <T>(db: sqlite3.Database, sql: string) => new Promise<T[]>((resolve, reject) => db.all(sql, (error, rows) => (error ? reject(error) : resolve(rows as T[]))));
const close = (db: sqlite3.Database) => new Promise<void>((resolve) => db.close(() => resolve()));

describe('SqliteWriteThread', () => {
  let dir: string;
  let filename: string;
  let reader: sqlite3.Database;
  let thread: SqliteWriteThread;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blockyard-write-thread-'));
    filename = join(dir, 'db.sqlite');
    reader = await open(filename);
    await exec(reader, 'PRAGMA journal_mode = WAL; CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER, data BLOB, at INTEGER)');
    thread = new SqliteWriteThread(filename, SETUP);
  });
  afterEach(async () => {
    await thread.close();
    await close(reader);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a batch as one transaction, answering each statement with the rows it changed', async () => {
    await thread.run([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['a', 1] }]);
    // A batch's statements run side by side (its callers were concurrent): none depends on another here.
    const outcomes = await thread.run([
      { sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['b', 12] },
      { sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['c', 3] },
      { sql: 'UPDATE items SET n = n + 10 WHERE id IN (?, ?)', bindings: ['a', 'nope'] },
    ]);
    expect(outcomes).to.deep.equal([
      { ok: true, value: 1 },
      { ok: true, value: 1 },
      { ok: true, value: 1 },
    ]);
    expect(await all(reader, 'SELECT id, n FROM items ORDER BY id')).to.deep.equal([
      { id: 'a', n: 11 },
      { id: 'b', n: 12 },
      { id: 'c', n: 3 },
    ]);
  });

  it("answers a failing statement with the driver's error (code and errno), committing the others", async () => {
    await thread.run([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['a', 1] }]);
    const outcomes = await thread.run([
      { sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['a', 2] },
      { sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['c', 3] },
    ]);
    expect(outcomes[0]!.ok).to.equal(false);
    const error = (outcomes[0] as { error: Error & { code?: string; errno?: number } }).error;
    expect(error).to.be.instanceOf(Error);
    expect(error.message).to.match(/UNIQUE constraint failed: items\.id/);
    expect(error.code).to.equal('SQLITE_CONSTRAINT');
    expect(error.errno).to.equal(19);
    expect(outcomes[1]).to.deep.equal({ ok: true, value: 1 });
    expect(await all(reader, 'SELECT id, n FROM items ORDER BY id')).to.deep.equal([
      { id: 'a', n: 1 },
      { id: 'c', n: 3 },
    ]);
  });

  it('binds buffers, dates, booleans and nulls as the driver does on the main thread', async () => {
    const at = new Date('2026-11-24T00:00:00.000Z');
    await thread.run([{ sql: 'INSERT INTO items (id, n, data, at) VALUES (?, ?, ?, ?)', bindings: ['a', true, Buffer.from([0, 1, 2, 255]), at] }]);
    await thread.run([{ sql: 'INSERT INTO items (id, n, data, at) VALUES (?, ?, ?, ?)', bindings: ['b', null, null, null] }]);
    const rows = await all<{ id: string; n: number | null; data: Buffer | null; at: number | null }>(reader, 'SELECT * FROM items ORDER BY id');
    expect(rows[0]!.n).to.equal(1);
    expect([...rows[0]!.data!]).to.deep.equal([0, 1, 2, 255]);
    expect(rows[0]!.at).to.equal(at.getTime());
    expect(rows[1]).to.deep.equal({ id: 'b', n: null, data: null, at: null });
  });

  it('rejects the whole batch, storing nothing, when its transaction cannot start', async () => {
    const holder = await open(filename);
    await exec(holder, 'BEGIN IMMEDIATE; INSERT INTO items (id, n) VALUES (\'held\', 0);');
    try {
      let caught: (Error & { code?: string }) | undefined;
      await thread.run([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['a', 1] }]).catch((e: Error) => (caught = e));
      expect(caught?.code).to.equal('SQLITE_BUSY');
    } finally {
      await exec(holder, 'ROLLBACK');
      await close(holder);
    }
    expect(await all(reader, 'SELECT id FROM items')).to.deep.equal([]);
    // The connection is usable again once the lock is gone.
    expect(await thread.run([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['a', 1] }])).to.deep.equal([{ ok: true, value: 1 }]);
  });

  it('rejects when its connection cannot open, and starts a new thread for the next batch', async () => {
    const later = join(dir, 'later', 'db.sqlite');
    const broken = new SqliteWriteThread(later, SETUP);
    try {
      let caught: Error | undefined;
      await broken.run([{ sql: 'CREATE TABLE t (a)', bindings: [] }]).catch((e: Error) => (caught = e));
      expect(caught?.message).to.match(/unable to open|SQLITE_CANTOPEN/i);
      mkdirSync(join(dir, 'later'));
      expect(await broken.run([{ sql: 'CREATE TABLE t (a)', bindings: [] }])).to.deep.equal([{ ok: true, value: 0 }]);
    } finally {
      await broken.close();
    }
  });

  it('refuses batches once closed', async () => {
    await thread.run([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['a', 1] }]);
    await thread.close();
    let caught: Error | undefined;
    await thread.run([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', bindings: ['b', 1] }]).catch((e: Error) => (caught = e));
    expect(caught?.message).to.equal('the SQLite writer thread is closed');
    expect(await all(reader, 'SELECT id FROM items')).to.deep.equal([{ id: 'a' }]);
  });
});
