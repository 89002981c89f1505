/**
 * Scale: throughput of I/O-bound executions with 1, then 2 worker processes on BullMQ +
 * PostgreSQL, in the same run.
 *
 * Real OS processes, started as an operator would: `node apps/server/dist/main.js` with
 * BLOCKYARD_ROLE=api (one process) and BLOCKYARD_ROLE=worker (1, then 2 processes, 8 runs at
 * once each by default), BLOCKYARD_QUEUE=bullmq on Redis and BLOCKYARD_DATABASE_URL on a
 * fresh PostgreSQL database. Each execution is `example.sleep` with `{ ms: 50 }`: it waits
 * 50 ms, as a block waiting on a provider's API would.
 *
 * Each round submits a backlog through the API first (POST /api/v1/blocks/example.sleep/execute,
 * 202 each), then starts its workers, waits until each answers GET /healthz, lets a warm-up
 * pass, and counts the executions storage records as completed during the next BENCH_SECONDS
 * (by their completed_at). The backlog is sized so that it never runs dry in the window (a
 * round where it did is invalid). The API process is idle during the window: the round
 * measures the workers, the queue and the storage, not the submission.
 *
 * Target: 2 workers complete ≥ 1.8 × the executions per second 1 worker completes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import knex, { type Knex } from 'knex';
import { ApiKeyService, UserService } from '@blockyard/core';
import { assertRedisReachable, BullMqExecutionQueue, redisOptionsFromUrl } from '@blockyard/queue-bullmq';
import { composeBlockyard, readConfig } from '@blockyard/server';
import type { BenchSettings } from './settings.js';
import { freePort, nodeArgsFrom, startServerProc, type ServerProc } from './server-process.js';

export const SCALE_TARGET = { minRatio: 1.8 } as const;

const SLEEP_MS = 50;
/**
 * Runs at once per worker (BENCH_SCALE_CONCURRENCY, default 8). Two workers at 8 need about
 * 320 executions/s of CPU from the machine (workers, PostgreSQL, Redis), which a 2-core
 * machine has; at the server's default 16, the machine saturates before the workers do, and
 * the ratio measures the machine (see bench/README.md).
 */
const WORKER_CONCURRENCY = readConcurrency(process.env.BENCH_SCALE_CONCURRENCY);

function readConcurrency(raw: string | undefined): number {
  if (!raw?.trim()) return 8;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`BENCH_SCALE_CONCURRENCY must be an integer from 1 to 256 (got ${JSON.stringify(raw)})`);
  return n;
}
/** Submissions in flight while the backlog is built. */
const SUBMIT_CONCURRENCY = 32;
/** How much more backlog than the ideal rate needs, so that it lasts through the window. */
const BACKLOG_MARGIN = 1.3;
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.BLOCKYARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.BLOCKYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ScaleRound {
  workers: number;
  /** Executions submitted before the workers started. */
  backlog: number;
  /** Executions completed during the window. */
  completed: number;
  windowSeconds: number;
  perSecond: number;
  /** workers × concurrency × 1000 / 50 ms: what the slots could do with no overhead at all. */
  idealPerSecond: number;
  /** Executions still queued when the window closed; 0 means the backlog ran dry and the round is invalid. */
  queuedAtEnd: number;
  /** Executions that failed (any failure makes the round invalid). */
  failed: number;
  /** CPU time the worker processes used per completed execution in the window, in ms (Linux only; null elsewhere). */
  workerCpuMsPerExecution: number | null;
  /** How busy the whole machine was in the window, 0–1 of all its cores (Linux only): near 1, the round was CPU-bound. */
  machineBusy: number | null;
  valid: boolean;
}

export type ScaleResult =
  | {
      target: typeof SCALE_TARGET;
      settings: { block: string; sleepMs: number; workerConcurrency: number; windowSeconds: number; warmupSeconds: number; database: string; queue: string; processes: string };
      rounds: ScaleRound[];
      /** Executions/s with 2 workers ÷ with 1. */
      ratio: number;
      valid: boolean;
      meetsTarget: boolean;
    }
  | { skipped: string };

/** Starts `node apps/server/dist/main.js` and resolves once GET /healthz on `port` answers 200. */
function startProcess(env: Record<string, string>, port: number): Promise<ServerProc> {
  // BENCH_SCALE_NODE_ARGS: extra node flags for the server processes (e.g. --cpu-prof to profile them).
  return startServerProc({ env: { ...process.env, ...env }, nodeArgs: nodeArgsFrom('BENCH_SCALE_NODE_ARGS'), base: `http://127.0.0.1:${port}`, what: `${env.BLOCKYARD_ROLE} process` });
}

/** CPU ms a process has used (user + system), from /proc; null where there is none. */
function processCpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks, USER_HZ 100
  } catch {
    return null;
  }
}

/** Busy and total CPU ticks of the machine, from /proc/stat; null where there is none. */
function machineTicks(): { busy: number; total: number } | null {
  try {
    const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const ticks = values.map(Number);
    const idle = ticks[3]! + (ticks[4] ?? 0);
    const total = ticks.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** POSTs `count` executions, `SUBMIT_CONCURRENCY` at a time; each must be accepted (202). */
async function submitBacklog(apiUrl: string, apiKey: string, count: number): Promise<void> {
  let next = 0;
  const body = JSON.stringify({ inputs: { ms: SLEEP_MS } });
  const submitter = async () => {
    while (next < count) {
      next++;
      const res = await fetch(`${apiUrl}/api/v1/blocks/example.sleep/execute`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body });
      const text = await res.text();
      if (res.status !== 202) throw new Error(`submitting an execution answered ${res.status}: ${text}`);
    }
  };
  await Promise.all(Array.from({ length: SUBMIT_CONCURRENCY }, submitter));
}

async function runRound(
  workers: number,
  common: Record<string, string>,
  db: Knex,
  apiKey: string,
  settings: BenchSettings,
  log: (line: string) => void,
): Promise<ScaleRound> {
  const queueName = `bench-scale-${randomBytes(4).toString('hex')}`;
  const env = { ...common, BLOCKYARD_QUEUE_NAME: queueName };
  const idealPerSecond = (workers * WORKER_CONCURRENCY * 1000) / SLEEP_MS;
  const backlog = Math.ceil(idealPerSecond * (settings.warmupSeconds + settings.seconds) * BACKLOG_MARGIN);
  const roundStart = new Date();
  const apiPort = await freePort();
  const api = await startProcess({ ...env, BLOCKYARD_ROLE: 'api', PORT: String(apiPort) }, apiPort);
  const procs: ServerProc[] = [api];
  try {
    log(`  ${workers} worker(s): submitting a backlog of ${backlog} executions`);
    await submitBacklog(`http://127.0.0.1:${apiPort}`, apiKey, backlog);
    const started = await Promise.all(
      Array.from({ length: workers }, async () => {
        const port = await freePort();
        return startProcess({ ...env, BLOCKYARD_ROLE: 'worker', BLOCKYARD_HEALTH_PORT: String(port) }, port);
      }),
    );
    procs.push(...started);
    const windowStart = new Date(Date.now() + settings.warmupSeconds * 1000);
    const windowEnd = new Date(windowStart.getTime() + settings.seconds * 1000);
    await sleep(windowStart.getTime() - Date.now());
    const cpuAt = () => started.map((w) => processCpuMs(w.child.pid));
    const cpuBefore = cpuAt();
    const ticksBefore = machineTicks();
    await sleep(windowEnd.getTime() - Date.now());
    const cpuAfter = cpuAt();
    const ticksAfter = machineTicks();
    const queuedAtEnd = Number((await db('executions').where('status', 'queued').andWhere('created_at', '>=', roundStart).count({ n: '*' }))[0]!.n);
    // Let the runs of the window's last moments reach storage before counting.
    await sleep(2 * SLEEP_MS + 200);
    const completed = Number(
      (await db('executions').where('status', 'completed').andWhere('completed_at', '>=', windowStart).andWhere('completed_at', '<', windowEnd).count({ n: '*' }))[0]!.n,
    );
    const failed = Number((await db('executions').where('status', 'failed').andWhere('created_at', '>=', roundStart).count({ n: '*' }))[0]!.n);
    const perSecond = completed / settings.seconds;
    const valid = queuedAtEnd > 0 && failed === 0 && completed > 0;
    const cpuUsed = cpuBefore.every((v) => v !== null) && cpuAfter.every((v) => v !== null) ? cpuAfter.reduce((a, v, i) => a! + v! - cpuBefore[i]!, 0)! : null;
    const workerCpuMsPerExecution = cpuUsed !== null && completed ? Math.round((cpuUsed / completed) * 100) / 100 : null;
    const machineBusy = ticksBefore && ticksAfter ? Math.round(((ticksAfter.busy - ticksBefore.busy) / (ticksAfter.total - ticksBefore.total)) * 100) / 100 : null;
    log(
      `  ${workers} worker(s): ${Math.round(perSecond)} executions/s (${completed} in ${settings.seconds} s; ideal ${idealPerSecond}/s; ${queuedAtEnd} still queued; workers' CPU ${workerCpuMsPerExecution ?? '?'} ms per execution; machine ${machineBusy === null ? '?' : Math.round(machineBusy * 100)} % busy)${valid ? '' : ' INVALID'}`,
    );
    return { workers, backlog, completed, windowSeconds: settings.seconds, perSecond, idealPerSecond, queuedAtEnd, failed, workerCpuMsPerExecution, machineBusy, valid };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    const queue = new BullMqExecutionQueue({ connection: redisOptionsFromUrl(REDIS_URL), queueName });
    await queue.obliterate().catch(() => undefined);
    await queue.release();
  }
}

/** Runs the scale bench; skipped (not failed) when PostgreSQL or Redis is not there. */
export async function runScale(settings: BenchSettings, log: (line: string) => void): Promise<ScaleResult> {
  log('Scale: I/O-bound executions (example.sleep 50 ms) with 1, then 2 worker processes on BullMQ + PostgreSQL');
  const database = `blockyard_bench_scale_${randomBytes(4).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: POSTGRES_URL, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 5000 });
  try {
    await assertRedisReachable(redisOptionsFromUrl(REDIS_URL));
    await admin.raw('CREATE DATABASE ??', [database]);
  } catch (e) {
    await admin.destroy();
    const skipped = `PostgreSQL (${new URL(POSTGRES_URL).host}) and Redis (${new URL(REDIS_URL).host}) are needed: ${(e as Error).message}`;
    log(`  skipped: ${skipped}`);
    return { skipped };
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'blockyard-bench-scale-'));
  const db = knex({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 2 } });
  try {
    const common: Record<string, string> = {
      HOST: '127.0.0.1',
      BLOCKYARD_DATA_DIR: dataDir,
      BLOCKYARD_DATABASE_URL: url.toString(),
      BLOCKYARD_QUEUE: 'bullmq',
      BLOCKYARD_REDIS_URL: REDIS_URL,
      BLOCKYARD_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      BLOCKYARD_PLUGINS: '@blockyard/plugin-example',
      BLOCKYARD_WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      LOG_LEVEL: 'warn',
      BLOCKYARD_RATE_LIMITS: 'off', // throughput, not the per-key limits
    };
    // The API key, through the same storage (this also creates the tables).
    const setup = await composeBlockyard(readConfig({ ...common, BLOCKYARD_QUEUE: 'memory' }), { loadPlugins: false });
    let apiKey: string;
    try {
      const user = await setup.container.get(UserService).ensureDefaultUser();
      apiKey = (await setup.container.get(ApiKeyService).createApiKey({ userId: user.id, name: 'bench', scopes: ['EXECUTE_BLOCK', 'READ_RUN'] })).secret;
    } finally {
      await setup.close();
    }
    const rounds: ScaleRound[] = [];
    for (const workers of [1, 2]) rounds.push(await runRound(workers, common, db, apiKey, settings, log));
    const ratio = rounds[1]!.perSecond / rounds[0]!.perSecond;
    const valid = rounds.every((r) => r.valid);
    return {
      target: SCALE_TARGET,
      settings: {
        block: 'example.sleep',
        sleepMs: SLEEP_MS,
        workerConcurrency: WORKER_CONCURRENCY,
        windowSeconds: settings.seconds,
        warmupSeconds: settings.warmupSeconds,
        database: `postgres ${url.host}`,
        queue: `bullmq ${new URL(REDIS_URL).host}`,
        processes: '1 api process + 1 or 2 worker processes (node apps/server/dist/main.js)',
      },
      rounds,
      ratio,
      valid,
      meetsTarget: valid && ratio >= SCALE_TARGET.minRatio,
    };
  } finally {
    await db.destroy();
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [database]).catch(() => undefined);
    await admin.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function scaleSummary(result: ScaleResult): string[] {
  if ('skipped' in result) return [`Scale — skipped: ${result.skipped}`];
  const rows = result.rounds.map(
    (r) =>
      `  ${r.workers} worker process(es): ${Math.round(r.perSecond)} executions/s (${Math.round((100 * r.perSecond) / r.idealPerSecond)} % of the ${r.idealPerSecond}/s ${r.workers} × ${result.settings.workerConcurrency} slots allow; machine ${r.machineBusy === null ? '?' : Math.round(r.machineBusy * 100)} % busy)${r.valid ? '' : ' — INVALID'}`,
  );
  return [
    `Scale — I/O-bound executions (${result.settings.block} ${result.settings.sleepMs} ms) on BullMQ + PostgreSQL, ${result.settings.workerConcurrency} runs at once per worker`,
    ...rows,
    `  2 workers ÷ 1 worker: ${result.ratio.toFixed(2)} ×${result.valid ? '' : ' (INVALID run)'}`,
    `  target ≥ ${result.target.minRatio} ×: ${result.meetsTarget ? 'MET' : 'NOT MET'}`,
  ];
}

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** `npm run bench -- scale` writes results/scale-latest.json and results/scale-<ISO date>.json. */
export async function writeScaleResults(results: { startedAt: string } & Record<string, unknown>): Promise<string[]> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const paths = [`${RESULTS_DIR}scale-latest.json`, `${RESULTS_DIR}scale-${results.startedAt.replace(/:/g, '-')}.json`];
  for (const path of paths) await writeFile(path, json);
  return paths;
}
