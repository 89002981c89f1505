/**
 * The SQLite writer thread's side (see SqliteWriteThread): one sqlite3 connection to the file,
 * on which each batch it is sent runs as one transaction. Batches run one after another, in
 * the order they arrive.
 */
import { parentPort, workerData } from 'node:worker_threads';
import sqlite3 from 'sqlite3';
import { runStatementBatch, type StatementOutcome } from './sqlite-batch.js';
import { finalizeConnectionStatements, sqliteExec, type SqliteConnection } from './sqlite-raw.js';
import { serializeSqliteError, type WriteThreadReply, type WriteThreadRequest } from './sqlite-write-thread.js';

const { filename, setupSql } = workerData as { filename: string; setupSql: string };
const port = parentPort!;
let database!: sqlite3.Database;
const opened = new Promise<void>((resolve, reject) => {
  database = new sqlite3.Database(filename, (error) => (error ? reject(error) : resolve()));
});
const connection = database as unknown as SqliteConnection;
const ready = opened.then(() => sqliteExec(connection, setupSql));
// A thread whose connection could not open answers each batch with why (`fatal`): the main
// side then ends it, and the next batch starts a new one (see SqliteWriteThread).
ready.catch(() => undefined);
let turn = Promise.resolve();

port.on('message', (request: WriteThreadRequest) => {
  turn = turn.then(() => handle(request));
});

/** Answers one request; never rejects. */
async function handle(request: WriteThreadRequest): Promise<void> {
  if (request.type === 'close') {
    finalizeConnectionStatements(connection);
    await new Promise<void>((resolve) => database.close(() => resolve()));
    reply({ id: request.id, outcomes: [] });
    return;
  }
  let outcomes: StatementOutcome[];
  try {
    await ready;
  } catch (error) {
    reply({ id: request.id, error: serializeSqliteError(error), fatal: true });
    return;
  }
  try {
    outcomes = await runStatementBatch(connection, request.statements);
  } catch (error) {
    reply({ id: request.id, error: serializeSqliteError(error) });
    return;
  }
  reply({ id: request.id, outcomes: outcomes.map((outcome) => (outcome.ok ? outcome : { ok: false, error: serializeSqliteError(outcome.error) })) });
}

function reply(message: WriteThreadReply): void {
  port.postMessage(message);
}
