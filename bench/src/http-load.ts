/**
 * HTTP load generation with autocannon, in a child process.
 *
 * The server under test runs in this process; autocannon runs in a forked Node process
 * (load-driver.ts) so that on a 2-core machine the server has one core to itself instead of
 * sharing its event loop with the load generator. Both P2 subjects are driven the same way.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  pipelining: number;
  durationSeconds: number;
}

export interface LoadSummary {
  /** Responses received (any status). */
  responses: number;
  durationSeconds: number;
  /** Responses per second over the whole run. */
  reqPerSec: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  status2xx: number;
  non2xx: number;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

/** What the driver sends back over IPC. */
export type DriverMessage = { ok: true; summary: LoadSummary } | { ok: false; error: string };

const DRIVER = fileURLToPath(new URL('./load-driver.js', import.meta.url));

/** Runs autocannon with `options` in a child process and resolves with its summary. */
export function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const child = fork(DRIVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<LoadSummary>((resolve, reject) => {
    let settled = false;
    child.once('message', (message: DriverMessage) => {
      settled = true;
      if (message.ok) resolve(message.summary);
      else reject(new Error(`load driver failed: ${message.error}`));
    });
    child.once('error', (error) => {
      settled = true;
      reject(error);
    });
    child.once('exit', (code, signal) => {
      if (!settled) reject(new Error(`load driver exited before answering (code ${code}, signal ${signal})`));
    });
    child.send(options);
  });
}

/** True when the run saw only 2xx answers and no connection errors: otherwise its req/s means nothing. */
export function isClean(summary: LoadSummary): boolean {
  return summary.non2xx === 0 && summary.errors === 0 && summary.timeouts === 0 && summary.responses > 0;
}
