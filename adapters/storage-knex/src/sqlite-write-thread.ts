import { Worker } from 'node:worker_threads';
import type { NativeStatement, SqliteStatementBatches, StatementOutcome } from './sqlite-batch.js';

/** A batch to run, or the request to close the connection. */
export type WriteThreadRequest = { id: number; type: 'batch'; statements: NativeStatement[] } | { id: number; type: 'close' };

/** The answer to one request: each statement's outcome, or why the whole batch failed. */
export type WriteThreadReply = { id: number; outcomes: Array<{ ok: true; value: number } | { ok: false; error: SerializedSqliteError }> } | { id: number; error: SerializedSqliteError; fatal?: boolean };

/** A driver error as it crosses threads (structured clone keeps only an Error's message). */
export interface SerializedSqliteError {
  message: string;
  code?: unknown;
  errno?: unknown;
}

export function serializeSqliteError(error: unknown): SerializedSqliteError {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, errno } = error as Error & { code?: unknown; errno?: unknown };
  return { message: error.message, ...(code !== undefined ? { code } : {}), ...(errno !== undefined ? { errno } : {}) };
}

/** The error again, as the sqlite3 driver raises it: an Error with `code` and `errno`. */
function reviveSqliteError(serialized: SerializedSqliteError): Error {
  const error = new Error(serialized.message) as Error & { code?: unknown; errno?: unknown };
  if (serialized.code !== undefined) error.code = serialized.code;
  if (serialized.errno !== undefined) error.errno = serialized.errno;
  return error;
}

interface Waiting {
  resolve: (outcomes: StatementOutcome[]) => void;
  reject: (error: unknown) => void;
}

/**
 * The group commit's batches of single statements, run by a worker thread on its own sqlite3
 * connection to the file.
 *
 * Each of a batch's steps (BEGIN IMMEDIATE, the statements, COMMIT) is a hand-off to libuv's
 * thread pool whose answer is taken by the thread that asked. On the main thread that answer
 * waits for the event loop's next turn, which under load (HTTP, outbound webhooks, JSON) is
 * milliseconds away: the one writer then spent most of its time waiting for turns, and was
 * what limited a busy server. The writer thread's loop does nothing else, so a batch costs
 * the main thread one message each way.
 *
 * A file database only: `:memory:` is one connection's own. Should the thread stop, the
 * batches waiting for it reject and the next batch starts a new one.
 */
export class SqliteWriteThread implements SqliteStatementBatches {
  #worker: Worker | null = null;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #closed = false;

  constructor(
    private readonly filename: string,
    /** SQL run once on the thread's connection before its first batch (its PRAGMAs). */
    private readonly setupSql: string,
  ) {}

  run(statements: readonly NativeStatement[]): Promise<StatementOutcome[]> {
    if (this.#closed) return Promise.reject(new Error('the SQLite writer thread is closed'));
    return this.#request({ type: 'batch', statements: statements as NativeStatement[] });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    try {
      await this.#request({ type: 'close' });
    } finally {
      await worker.terminate();
    }
  }

  #request(request: { type: 'batch'; statements: NativeStatement[] } | { type: 'close' }): Promise<StatementOutcome[]> {
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise<StatementOutcome[]>((resolve, reject) => {
      // Keeps the process alive while a write is on its way, and only then.
      if (this.#waiting.size === 0) worker.ref();
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...request } satisfies WriteThreadRequest);
    });
  }

  #start(): Worker {
    const worker = new Worker(new URL('./sqlite-write-worker.js', import.meta.url), { workerData: { filename: this.filename, setupSql: this.setupSql } });
    worker.unref();
    const stopped = (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      const waiting = [...this.#waiting.values()];
      this.#waiting.clear();
      for (const { reject } of waiting) reject(error);
    };
    worker.on('message', (reply: WriteThreadReply) => {
      if ('fatal' in reply && reply.fatal) {
        // Its connection could not open: every batch sent to it fails alike.
        stopped(reviveSqliteError(reply.error));
        void worker.terminate();
        return;
      }
      const waiting = this.#waiting.get(reply.id);
      if (!waiting) return;
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) worker.unref();
      if ('error' in reply) waiting.reject(reviveSqliteError(reply.error));
      else waiting.resolve(reply.outcomes.map((outcome) => (outcome.ok ? outcome : { ok: false, error: reviveSqliteError(outcome.error) })));
    });
    worker.on('error', (error) => stopped(new Error(`the SQLite writer thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => stopped(new Error(`the SQLite writer thread exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }
}
