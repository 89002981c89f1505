/**
 * P2: HTTP execute-and-wait throughput of the real server.
 *
 * Starts the Blockyard server in this process exactly as `npm start` composes it (SQLite
 * file in a temporary data dir, in-memory queue, example plugin, pino at `warn`), creates an
 * API key through the container, then drives
 *   POST /api/v1/blocks/example.echo/execute?wait=5   {"inputs":{"text":"hi"}}
 * with autocannon from a child process. Each request authenticates, validates, stores and
 * enqueues an execution, waits while the worker runs it, and answers the finished execution.
 *
 * Baseline, same run, same load settings: a bare Koa 3 app answering `{"ok":true}` to the
 * same POST. Target: Blockyard req/s ≥ 25 % of bare Koa's. A run with any non-2xx answer or
 * connection error is reported as invalid.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiKeyService, ExecutionRepository, UserService } from '@blockyard/core';
import { describeDatabase, PinoLogger, readConfig, startServer } from '@blockyard/server';
import { startBareKoa } from './bare-koa.js';
import { isClean, runLoad, type LoadOptions, type LoadSummary } from './http-load.js';
import type { BenchSettings } from './settings.js';

export const P2_TARGET = { minRatio: 0.25 } as const;

const PATH = '/api/v1/blocks/example.echo/execute?wait=5';
const BODY = JSON.stringify({ inputs: { text: 'hi' } });
const LOAD = { connections: 50, pipelining: 1 } as const;

export interface P2Subject {
  name: string;
  url: string;
  load: LoadSummary;
  /** No non-2xx answers, no connection errors. */
  valid: boolean;
}

export interface P2Result {
  target: typeof P2_TARGET;
  settings: { path: string; body: string; connections: number; pipelining: number; durationSeconds: number; warmupSeconds: number; loadGenerator: string };
  server: { database: string; workerConcurrency: number; logLevel: string };
  baseline: P2Subject;
  blockyard: P2Subject;
  /** Blockyard req/s ÷ bare Koa req/s. */
  ratio: number;
  valid: boolean;
  meetsTarget: boolean;
}

/** One POST like the load's, checked before the load starts so that a broken setup fails loudly. */
async function sampleRequest(url: string, apiKey: string, check: (status: number, body: unknown) => string | null): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: BODY });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* reported below as it is */
  }
  const problem = check(res.status, body);
  if (problem) throw new Error(`sample request to ${url} failed: ${problem} (status ${res.status}, body ${text.slice(0, 300)})`);
}

/**
 * When the load stops, requests are still in flight on the server, waiting for their
 * executions. Closing at once would destroy storage under them (the server's close() does
 * not wait for HTTP handlers), so let the executions finish first.
 */
async function drainExecutions(executions: ExecutionRepository, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await executions.listByStatus(['queued', 'running'], 1)).length > 0) await sleep(50);
  await sleep(200); // each waiting handler then reads its finished execution once more
}

async function measureLoad(name: string, url: string, apiKey: string, settings: BenchSettings, log: (line: string) => void): Promise<P2Subject> {
  const options: LoadOptions = {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: BODY,
    ...LOAD,
    durationSeconds: settings.warmupSeconds,
  };
  log(`P2 ${name}: warming up ${settings.warmupSeconds} s...`);
  const warmup = await runLoad(options);
  if (!isClean(warmup)) log(`P2 ${name}: warm-up saw ${warmup.non2xx} non-2xx answers and ${warmup.errors} errors`);
  log(`P2 ${name}: measuring ${settings.seconds} s (${LOAD.connections} connections, pipelining ${LOAD.pipelining})...`);
  const load = await runLoad({ ...options, durationSeconds: settings.seconds });
  return { name, url, load, valid: isClean(load) };
}

export async function runP2(settings: BenchSettings, log: (line: string) => void): Promise<P2Result> {
  // Baseline first, alone on the machine.
  const koa = await startBareKoa();
  let baseline: P2Subject;
  try {
    const url = koa.url + PATH;
    await sampleRequest(url, 'unused', (status, body) => (status === 200 && (body as { ok?: unknown }).ok === true ? null : 'expected 200 {"ok":true}'));
    baseline = await measureLoad('bare Koa', url, 'unused', settings, log);
  } finally {
    await koa.close();
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'blockyard-bench-'));
  try {
    const config = readConfig({ ...process.env, PORT: '0', BLOCKYARD_DATA_DIR: dataDir, LOG_LEVEL: 'warn', BLOCKYARD_RATE_LIMITS: 'off' });
    const server = await startServer(config, { logger: PinoLogger.create(config.logLevel) });
    let blockyard: P2Subject;
    try {
      const { container } = server.blockyard;
      const user = await container.get(UserService).ensureDefaultUser();
      const { secret } = await container.get(ApiKeyService).createApiKey({ userId: user.id, scopes: ['EXECUTE_BLOCK', 'READ_RUN'] });
      const url = server.url + PATH;
      await sampleRequest(url, secret, (status, body) => {
        const execution = body as { status?: unknown; outputs?: { text?: unknown } };
        if (status !== 200) return 'expected 200';
        if (execution.status !== 'completed') return 'expected status completed';
        if (JSON.stringify(execution.outputs?.text) !== '["hi"]') return 'expected outputs.text ["hi"]';
        return null;
      });
      blockyard = await measureLoad('Blockyard', url, secret, settings, log);
    } finally {
      await drainExecutions(server.blockyard.container.get<ExecutionRepository>(ExecutionRepository)).catch(() => undefined);
      await server.close();
    }

    const ratio = blockyard.load.reqPerSec / baseline.load.reqPerSec;
    const valid = baseline.valid && blockyard.valid;
    return {
      target: P2_TARGET,
      settings: {
        path: PATH,
        body: BODY,
        ...LOAD,
        durationSeconds: settings.seconds,
        warmupSeconds: settings.warmupSeconds,
        loadGenerator: 'autocannon 9 in a forked child process',
      },
      server: { database: describeDatabase(config), workerConcurrency: config.workerConcurrency, logLevel: config.logLevel },
      baseline,
      blockyard,
      ratio,
      valid,
      meetsTarget: valid && ratio >= P2_TARGET.minRatio,
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
