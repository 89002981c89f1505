/**
 * External: an app's execute → webhook path against the /api/v1 path, in the same run.
 *
 * One real server process (`node apps/server/dist/main.js`, the embedded default: SQLite in a
 * temporary data dir, the memory queue, the example plugin; BLOCKYARD_RATE_LIMITS=off,
 * BLOCKYARD_OUTBOUND_ALLOW_HOSTS=127.0.0.1, BLOCKYARD_OUTBOUND_WEBHOOK_POLL_MS low), a webhook
 * receiver on 127.0.0.1 in this process (webhook-receiver.ts), and an agent of one no-op block:
 * `text` → example.echo → `text`. Set up as a user and an app would: the user and an API key in
 * storage first, then over HTTP an OAuth client (webhook_domains 127.0.0.1 and localhost), the
 * user's access token through the login form, authorize + PKCE S256 and consent (oauth-login.ts),
 * and the agent. example.echo needs no credential, so the execute names no grant.
 *
 * - Subject (external): `POST /api/external/v1/executions/agents/:id/execute` with the bearer
 *   token and a `webhook_url` on the receiver, timed until the signed `execution.completed`
 *   webhook of that execution has arrived (every delivery's signature is checked).
 * - Baseline (/api/v1): `POST /api/v1/agents/:id/execute?wait=30` with the API key, timed until
 *   the answer with the completed execution has arrived: the fastest way an /api/v1 client has.
 * - Reference (/api/v1, polling): the same execute without `wait` (202), then
 *   `GET /api/v1/executions/:id` every 50 ms until it is completed.
 *
 * Each is measured sequentially (one execution at a time: latency p50, p95) and with 16 clients
 * at once (executions completed per second), in 3 interleaved rounds whose order rotates.
 * Targets: external ÷ /api/v1 (?wait=) ≥ 0.8 for throughput, and for p50 latency inverted
 * (/api/v1 p50 ÷ external p50), so that higher is better for both.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_KEY_SCOPES, ApiKeyService, UserService } from '@blockyard/core';
import { composeBlockyard, readConfig } from '@blockyard/server';
import { accessTokenFor } from './oauth-login.js';
import type { BenchSettings } from './settings.js';
import { WebhookReceiver } from './webhook-receiver.js';
import { freePort, nodeArgsFrom, startServerProc, type ServerProc } from './server-process.js';

export const EXTERNAL_TARGET = { minRatio: 0.8 } as const;

/** Clients at once in the throughput measurement. */
const CONCURRENCY = readInt('BENCH_EXTERNAL_CONCURRENCY', 16, 1, 1024);
/**
 * Interleaved rounds (BENCH_EXTERNAL_ROUNDS). The subjects of one round run back to back, so
 * each round gives a paired ratio; the headline ratios are the medians of those, which a change
 * in machine load between rounds moves much less than a ratio of totals.
 */
const ROUNDS = readInt('BENCH_EXTERNAL_ROUNDS', 5, 1, 51);
/** The /api/v1 polling reference's interval between GETs. */
const GET_POLL_INTERVAL_MS = 50;
/** `?wait=` of the baseline, seconds (the server's maximum is 30). */
const WAIT_SECONDS = 30;
/** An execution not seen finished by then is an error. */
const EXECUTION_TIMEOUT_MS = 30_000;
/** A window stops early after this many errors (the run is invalid anyway). */
const MAX_ERRORS = 10;
/** Pause between windows, so that deliveries of the last one's executions (execution.started) are out of the way. */
const SETTLE_MS = 200;
/**
 * BLOCKYARD_OUTBOUND_WEBHOOK_POLL_MS of the server (BENCH_EXTERNAL_DISPATCHER_POLL_MS, default
 * 50; the server's default is 1000). The dispatcher is also woken at once when its own process
 * enqueues a delivery, which is the case here (one process does everything), so this matters
 * only if that wake-up were missing; setting it to 1000 measures that.
 */
const DISPATCHER_POLL_MS = readInt('BENCH_EXTERNAL_DISPATCHER_POLL_MS', 50, 10, 3_600_000);

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
const USER = { email: 'bench@example.org', password: 'Bench-external-pässword-2026' };
const REDIRECT_URI = 'https://app.example.com/oauth/callback';
const EXPECTED_OUTPUTS = JSON.stringify({ text: ['hi'] });

const agentGraph = {
  name: 'bench echo',
  nodes: [
    { id: 'in', kind: 'input', name: 'text', schema: { type: 'string' }, required: true },
    { id: 'echo', kind: 'block', block_id: 'example.echo' },
    { id: 'out', kind: 'output', name: 'text', schema: { type: 'string' } },
  ],
  links: [
    { source_node_id: 'in', source_output: 'value', sink_node_id: 'echo', sink_input: 'text' },
    { source_node_id: 'echo', source_output: 'text', sink_node_id: 'out', sink_input: 'value' },
  ],
};

function readInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  return n;
}

type SubjectKey = 'external' | 'v1Wait' | 'v1Poll';

/** One execution, in ms from the start of its execute request. */
interface Sample {
  /** Until the client knows it completed (the completed webhook arrived, or the answer saying completed). */
  ms: number;
  /** Until the execute request's answer (202) arrived; null where that answer is the completion (?wait=). */
  acceptedMs: number | null;
  /** Until its execution.started webhook arrived (external only, when it came before execution.completed). */
  startedWebhookMs: number | null;
}

/** One way of running an execution to its end. */
interface Driver {
  key: SubjectKey;
  what: string;
  once(): Promise<Sample>;
}

interface Window {
  completed: number;
  seconds: number;
  latenciesMs: number[];
  samples: Sample[];
  errors: number;
  firstError: string | null;
  /** Server process CPU ms used in the window (Linux only). */
  serverCpuMs: number | null;
  /** This (the bench's) process's CPU ms in the window: the clients and the webhook receiver. */
  benchCpuMs: number;
}

export interface ExternalSubjectResult {
  what: string;
  sequential: {
    executions: number;
    seconds: number;
    p50Ms: number;
    p95Ms: number;
    meanMs: number;
    roundsP50Ms: number[];
    /** Where the time went, medians: until the execute answer (202), and until the execution.started webhook (external). */
    acceptedP50Ms: number | null;
    startedWebhookP50Ms: number | null;
  };
  concurrent: {
    concurrency: number;
    executions: number;
    seconds: number;
    perSecond: number;
    roundsPerSecond: number[];
    p50Ms: number;
    p95Ms: number;
    /** CPU the server process used per completed execution at this concurrency, in ms (Linux only; null elsewhere). */
    serverCpuMsPerExecution: number | null;
    /** CPU the bench process (clients, webhook receiver) used per completed execution, in ms: it shares the machine with the server. */
    benchCpuMsPerExecution: number | null;
  };
  errors: number;
  firstError: string | null;
}

export interface ExternalResult {
  target: typeof EXTERNAL_TARGET;
  settings: {
    agent: string;
    rounds: number;
    windowSeconds: number;
    warmupSeconds: number;
    concurrency: number;
    getPollIntervalMs: number;
    dispatcherPollMs: number;
    server: string;
  };
  external: ExternalSubjectResult;
  v1Wait: ExternalSubjectResult;
  v1Poll: ExternalSubjectResult;
  ratios: {
    /** External executions/s ÷ /api/v1 ?wait= executions/s at the concurrency (higher is better): the median of the rounds' ratios. */
    throughput: number;
    /** /api/v1 ?wait= p50 ÷ external p50, sequential (higher is better): the median of the rounds' ratios. */
    latencyP50: number;
    /** The ratio of each round (its subjects ran back to back). */
    throughputByRound: number[];
    latencyP50ByRound: number[];
    /** The same two from all rounds' totals (informational). */
    throughputPooled: number;
    latencyP50Pooled: number;
    /** The same two against the GET polling reference (informational). */
    throughputVsPolling: number;
    latencyP50VsPolling: number;
  };
  webhooks: { received: number; verified: number; badSignatures: string[] };
  valid: boolean;
  meetsTarget: boolean;
}

function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** The median of the values that are there; null when none is. */
function median(values: ReadonlyArray<number | null>): number | null {
  const present = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  return present.length ? round2(percentile(present, 0.5)) : null;
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

/** `node apps/server/dist/main.js` with this environment only (no BLOCKYARD_* of the bench's own), up once GET /healthz answers. */
function startServer(env: Record<string, string>, base: string): Promise<ServerProc> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BLOCKYARD_')));
  // BENCH_EXTERNAL_NODE_ARGS: extra node flags for the server process (e.g. --cpu-prof to profile it).
  return startServerProc({ env: { ...inherited, ...env }, nodeArgs: nodeArgsFrom('BENCH_EXTERNAL_NODE_ARGS'), base, what: 'the server' });
}

async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}

/** This process's CPU ms (user + system) since `since`. */
function ownCpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function sequentialWindow(driver: Driver, seconds: number, pid: number | undefined): Promise<Window> {
  const cpuBefore = processCpuMs(pid);
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const samples: Sample[] = [];
  let errors = 0;
  let firstError: string | null = null;
  while (performance.now() < deadline && errors < MAX_ERRORS) {
    try {
      samples.push(await driver.once());
    } catch (e) {
      errors++;
      firstError ??= (e as Error).message;
    }
  }
  const cpuAfter = processCpuMs(pid);
  const benchCpuMs = ownCpuMs(ownBefore);
  return { completed: samples.length, seconds: (performance.now() - started) / 1000, latenciesMs: samples.map((x) => x.ms), samples, errors, firstError, serverCpuMs: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null, benchCpuMs };
}

/** `concurrency` clients, each running one execution after another; counts those completed within `seconds`. */
async function concurrentWindow(driver: Driver, seconds: number, concurrency: number, pid: number | undefined): Promise<Window> {
  const cpuBefore = processCpuMs(pid);
  const ownBefore = process.cpuUsage();
  const deadline = performance.now() + seconds * 1000;
  const samples: Sample[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let cpuAtDeadline: number | null = null;
  let ownAtDeadline: number | null = null;
  const cpuTimer = setTimeout(() => {
    cpuAtDeadline = processCpuMs(pid);
    ownAtDeadline = ownCpuMs(ownBefore);
  }, seconds * 1000);
  const client = async () => {
    while (performance.now() < deadline && errors < MAX_ERRORS) {
      try {
        const sample = await driver.once();
        if (performance.now() <= deadline) samples.push(sample);
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  clearTimeout(cpuTimer);
  cpuAtDeadline ??= processCpuMs(pid);
  ownAtDeadline ??= ownCpuMs(ownBefore);
  return { completed: samples.length, seconds, latenciesMs: samples.map((x) => x.ms), samples, errors, firstError, serverCpuMs: cpuBefore !== null && cpuAtDeadline !== null ? cpuAtDeadline - cpuBefore : null, benchCpuMs: ownAtDeadline };
}

function summarize(what: string, sequential: Window[], concurrent: Window[]): ExternalSubjectResult {
  const seqAll = sequential.flatMap((w) => w.latenciesMs).sort((a, b) => a - b);
  const conAll = concurrent.flatMap((w) => w.latenciesMs).sort((a, b) => a - b);
  const seqSeconds = sequential.reduce((s, w) => s + w.seconds, 0);
  const conSeconds = concurrent.reduce((s, w) => s + w.seconds, 0);
  const conCompleted = concurrent.reduce((s, w) => s + w.completed, 0);
  const cpu = concurrent.every((w) => w.serverCpuMs !== null) ? concurrent.reduce((s, w) => s + w.serverCpuMs!, 0) : null;
  const benchCpu = concurrent.reduce((s, w) => s + w.benchCpuMs, 0);
  const all = [...sequential, ...concurrent];
  return {
    what,
    sequential: {
      executions: seqAll.length,
      seconds: round2(seqSeconds),
      p50Ms: round2(percentile(seqAll, 0.5)),
      p95Ms: round2(percentile(seqAll, 0.95)),
      meanMs: round2(seqAll.reduce((s, v) => s + v, 0) / seqAll.length),
      roundsP50Ms: sequential.map((w) => round2(percentile([...w.latenciesMs].sort((a, b) => a - b), 0.5))),
      acceptedP50Ms: median(sequential.flatMap((w) => w.samples.map((x) => x.acceptedMs))),
      startedWebhookP50Ms: median(sequential.flatMap((w) => w.samples.map((x) => x.startedWebhookMs))),
    },
    concurrent: {
      concurrency: CONCURRENCY,
      executions: conCompleted,
      seconds: round2(conSeconds),
      perSecond: round2(conCompleted / conSeconds),
      roundsPerSecond: concurrent.map((w) => round2(w.completed / w.seconds)),
      p50Ms: round2(percentile(conAll, 0.5)),
      p95Ms: round2(percentile(conAll, 0.95)),
      serverCpuMsPerExecution: cpu !== null && conCompleted ? round2(cpu / conCompleted) : null,
      benchCpuMsPerExecution: conCompleted ? round2(benchCpu / conCompleted) : null,
    },
    errors: all.reduce((s, w) => s + w.errors, 0),
    firstError: all.find((w) => w.firstError)?.firstError ?? null,
  };
}

/** Runs the external bench: sets up the server, the app and the receiver, measures, tears down. */
export async function runExternal(settings: BenchSettings, log: (line: string) => void): Promise<ExternalResult> {
  log(`External: execute → signed webhook (/api/external/v1) against execute?wait= and GET polling (/api/v1), agent of one example.echo, ${CONCURRENCY} clients for throughput`);
  const dataDir = await mkdtemp(join(tmpdir(), 'blockyard-bench-external-'));
  const receiver = new WebhookReceiver();
  let server: ServerProc | null = null;
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      PORT: String(port),
      BLOCKYARD_PUBLIC_URL: base,
      BLOCKYARD_DATA_DIR: dataDir,
      BLOCKYARD_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      BLOCKYARD_PLUGINS: '@blockyard/plugin-example',
      BLOCKYARD_RATE_LIMITS: 'off',
      BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      BLOCKYARD_OUTBOUND_WEBHOOK_POLL_MS: String(DISPATCHER_POLL_MS),
      LOG_LEVEL: 'warn',
    };

    // The user (with a password, to sign in) and an API key, in storage, before the server starts.
    const setup = await composeBlockyard(readConfig(env), { loadPlugins: false });
    let apiKey: string;
    try {
      const user = await setup.container.get(UserService).createUser({ email: USER.email, name: 'Bench User', password: USER.password });
      apiKey = (await setup.container.get(ApiKeyService).createApiKey({ userId: user.id, name: 'bench', scopes: [...API_KEY_SCOPES] })).secret; // every scope: it also registers the OAuth client
    } finally {
      await setup.close();
    }
    server = await startServer(env, base);
    const pid = server.child.pid;
    await receiver.start();

    const keyHeaders = { 'x-api-key': apiKey, 'content-type': 'application/json' };
    const registered = await fetch(`${base}/oauth/clients/`, {
      method: 'POST',
      headers: keyHeaders,
      body: JSON.stringify({ name: 'Bench App', client_type: 'confidential', redirect_uris: [REDIRECT_URI], webhook_domains: ['127.0.0.1', 'localhost'] }),
    });
    const client = await json(registered);
    if (registered.status !== 201) throw new Error(`registering the OAuth client answered ${registered.status}: ${JSON.stringify(client)}`);
    receiver.secret = client.webhook_secret;
    const token = await accessTokenFor({ base, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT_URI, user: USER, scope: 'openid agents:execute' });
    const agentRes = await fetch(`${base}/api/v1/agents`, { method: 'POST', headers: keyHeaders, body: JSON.stringify(agentGraph) });
    const agent = await json(agentRes);
    if (agentRes.status !== 201) throw new Error(`creating the agent answered ${agentRes.status}: ${JSON.stringify(agent)}`);
    const agentId: string = agent.id;

    const extUrl = `${base}/api/external/v1/executions/agents/${agentId}/execute`;
    const extHeaders = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const extBody = JSON.stringify({ inputs: { text: 'hi' }, grant_ids: null, webhook_url: `${receiver.url}/blockyard/webhooks` });
    const v1Body = JSON.stringify({ inputs: { text: 'hi' } });

    const external: Driver = {
      key: 'external',
      what: 'external: POST /api/external/v1/executions/agents/:id/execute (webhook_url) → execution.completed webhook arrived',
      async once() {
        const t0 = performance.now();
        const res = await fetch(extUrl, { method: 'POST', headers: extHeaders, body: extBody });
        const body = await json(res);
        const acceptedAt = performance.now();
        if (res.status !== 202 || !body.execution_id) throw new Error(`external execute answered ${res.status}: ${JSON.stringify(body)}`);
        const arrival = await receiver.finished(body.execution_id, EXECUTION_TIMEOUT_MS);
        if (arrival.event !== 'execution.completed') throw new Error(`execution ${body.execution_id} ended with ${arrival.event}: ${JSON.stringify(arrival.data)}`);
        if (JSON.stringify(arrival.data.outputs) !== EXPECTED_OUTPUTS) throw new Error(`execution.completed of ${body.execution_id} has outputs ${JSON.stringify(arrival.data.outputs)}`);
        return { ms: arrival.at - t0, acceptedMs: acceptedAt - t0, startedWebhookMs: arrival.startedAt === null ? null : arrival.startedAt - t0 };
      },
    };
    const v1Wait: Driver = {
      key: 'v1Wait',
      what: `/api/v1: POST /api/v1/agents/:id/execute?wait=${WAIT_SECONDS} → 200 with the completed execution`,
      async once() {
        const t0 = performance.now();
        const res = await fetch(`${base}/api/v1/agents/${agentId}/execute?wait=${WAIT_SECONDS}`, { method: 'POST', headers: keyHeaders, body: v1Body });
        const body = await json(res);
        const at = performance.now();
        if (res.status !== 200 || body.status !== 'completed') throw new Error(`execute?wait= answered ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
        if (JSON.stringify(body.outputs) !== EXPECTED_OUTPUTS) throw new Error(`execute?wait= completed with outputs ${JSON.stringify(body.outputs)}`);
        return { ms: at - t0, acceptedMs: null, startedWebhookMs: null };
      },
    };
    const v1Poll: Driver = {
      key: 'v1Poll',
      what: `/api/v1 polling: POST /api/v1/agents/:id/execute → 202, then GET /api/v1/executions/:id every ${GET_POLL_INTERVAL_MS} ms until completed`,
      async once() {
        const t0 = performance.now();
        const res = await fetch(`${base}/api/v1/agents/${agentId}/execute`, { method: 'POST', headers: keyHeaders, body: v1Body });
        const accepted = await json(res);
        const acceptedMs = performance.now() - t0;
        if (res.status !== 202 || !accepted.execution_id) throw new Error(`execute answered ${res.status}: ${JSON.stringify(accepted).slice(0, 500)}`);
        for (;;) {
          await sleep(GET_POLL_INTERVAL_MS);
          const got = await fetch(`${base}/api/v1/executions/${accepted.execution_id}`, { headers: { 'x-api-key': apiKey } });
          const body = await json(got);
          if (got.status !== 200) throw new Error(`GET execution answered ${got.status}: ${JSON.stringify(body).slice(0, 500)}`);
          if (body.status === 'completed') {
            const at = performance.now();
            if (JSON.stringify(body.outputs) !== EXPECTED_OUTPUTS) throw new Error(`execution completed with outputs ${JSON.stringify(body.outputs)}`);
            return { ms: at - t0, acceptedMs, startedWebhookMs: null };
          }
          if (body.status !== 'queued' && body.status !== 'running') throw new Error(`execution ${accepted.execution_id} ended ${body.status}: ${JSON.stringify(body.error)}`);
          if (performance.now() - t0 > EXECUTION_TIMEOUT_MS) throw new Error(`execution ${accepted.execution_id} did not complete within ${EXECUTION_TIMEOUT_MS} ms`);
        }
      },
    };
    // BENCH_EXTERNAL_ONLY=external,v1Wait,v1Poll (any of them) runs only those subjects, e.g. one alone to profile the server on one path.
    const only = process.env.BENCH_EXTERNAL_ONLY?.split(',').map((k) => k.trim()).filter(Boolean);
    const drivers = [v1Wait, external, v1Poll].filter((d) => !only?.length || only.includes(d.key));
    if (!drivers.length) throw new Error(`BENCH_EXTERNAL_ONLY must name external, v1Wait or v1Poll (got ${JSON.stringify(process.env.BENCH_EXTERNAL_ONLY)})`);

    // One sample each must work, and the sample webhook must carry a good signature.
    for (const d of drivers) await d.once();
    if ((drivers.includes(external) && receiver.verified === 0) || receiver.badSignatures.length) throw new Error(`the sample webhook did not verify: ${receiver.badSignatures.join('; ') || 'no delivery checked'}`);
    log(`  sample executions completed; the sample webhook's X-Webhook-Signature verified (dispatcher poll ${DISPATCHER_POLL_MS} ms)`);

    for (const d of drivers) {
      await sequentialWindow(d, settings.warmupSeconds / 2, pid);
      await concurrentWindow(d, settings.warmupSeconds / 2, CONCURRENCY, pid);
      await sleep(SETTLE_MS);
    }
    const windowSeconds = settings.seconds / ROUNDS;
    const sequential: Record<SubjectKey, Window[]> = { external: [], v1Wait: [], v1Poll: [] };
    const concurrent: Record<SubjectKey, Window[]> = { external: [], v1Wait: [], v1Poll: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...drivers.slice(round % drivers.length), ...drivers.slice(0, round % drivers.length)];
      for (const d of order) {
        const w = await sequentialWindow(d, windowSeconds, pid);
        sequential[d.key].push(w);
        await sleep(SETTLE_MS);
        const p50 = percentile([...w.latenciesMs].sort((a, b) => a - b), 0.5);
        log(`  round ${round + 1}, ${d.key}, sequential: ${w.completed} executions, p50 ${p50.toFixed(1)} ms${w.errors ? `, ${w.errors} ERRORS (${w.firstError})` : ''}`);
      }
      for (const d of order) {
        const w = await concurrentWindow(d, windowSeconds, CONCURRENCY, pid);
        concurrent[d.key].push(w);
        await sleep(SETTLE_MS);
        log(`  round ${round + 1}, ${d.key}, ${CONCURRENCY} at once: ${(w.completed / w.seconds).toFixed(1)} executions/s${w.errors ? `, ${w.errors} ERRORS (${w.firstError})` : ''}`);
      }
    }

    const results = {
      external: summarize(external.what, sequential.external, concurrent.external),
      v1Wait: summarize(v1Wait.what, sequential.v1Wait, concurrent.v1Wait),
      v1Poll: summarize(v1Poll.what, sequential.v1Poll, concurrent.v1Poll),
    };
    const throughputByRound = results.external.concurrent.roundsPerSecond.map((ext, i) => round2(ext / results.v1Wait.concurrent.roundsPerSecond[i]!));
    const latencyP50ByRound = results.external.sequential.roundsP50Ms.map((ext, i) => round2(results.v1Wait.sequential.roundsP50Ms[i]! / ext));
    const ratios = {
      throughput: median(throughputByRound) ?? NaN,
      latencyP50: median(latencyP50ByRound) ?? NaN,
      throughputByRound,
      latencyP50ByRound,
      throughputPooled: round2(results.external.concurrent.perSecond / results.v1Wait.concurrent.perSecond),
      latencyP50Pooled: round2(results.v1Wait.sequential.p50Ms / results.external.sequential.p50Ms),
      throughputVsPolling: round2(results.external.concurrent.perSecond / results.v1Poll.concurrent.perSecond),
      latencyP50VsPolling: round2(results.v1Poll.sequential.p50Ms / results.external.sequential.p50Ms),
    };
    const valid = Object.values(results).every((r) => r.errors === 0 && r.sequential.executions > 0 && r.concurrent.executions > 0) && receiver.badSignatures.length === 0;
    return {
      target: EXTERNAL_TARGET,
      settings: {
        agent: 'text → example.echo → text',
        rounds: ROUNDS,
        windowSeconds: round2(windowSeconds),
        warmupSeconds: settings.warmupSeconds,
        concurrency: CONCURRENCY,
        getPollIntervalMs: GET_POLL_INTERVAL_MS,
        dispatcherPollMs: DISPATCHER_POLL_MS,
        server: 'one process (node apps/server/dist/main.js, role all): SQLite, memory queue, rate limits off',
      },
      ...results,
      ratios,
      webhooks: { received: receiver.received, verified: receiver.verified, badSignatures: receiver.badSignatures.slice(0, 10) },
      valid,
      meetsTarget: valid && ratios.throughput >= EXTERNAL_TARGET.minRatio && ratios.latencyP50 >= EXTERNAL_TARGET.minRatio,
    };
  } finally {
    await server?.stop();
    await receiver.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function externalSummary(r: ExternalResult): string[] {
  const row = (name: string, s: ExternalSubjectResult) =>
    `  ${name.padEnd(26)} p50 ${s.sequential.p50Ms.toFixed(1).padStart(6)} ms  p95 ${s.sequential.p95Ms.toFixed(1).padStart(6)} ms  ` +
    `${s.concurrent.perSecond.toFixed(1).padStart(6)} executions/s (rounds ${s.concurrent.roundsPerSecond.map((v) => v.toFixed(0)).join(', ')}; p50 ${s.concurrent.p50Ms.toFixed(1)} ms; server CPU ${s.concurrent.serverCpuMsPerExecution ?? '?'} ms, bench's ${s.concurrent.benchCpuMsPerExecution ?? '?'} ms each)` +
    `${s.errors ? `  ${s.errors} ERRORS: ${s.firstError}` : ''}`;
  const met = (ratio: number) => (ratio >= r.target.minRatio ? 'MET' : 'NOT MET');
  return [
    `External — execute → webhook vs /api/v1, sequential latency and ${r.settings.concurrency} clients' throughput, ${r.settings.rounds} interleaved rounds (dispatcher poll ${r.settings.dispatcherPollMs} ms)`,
    row('external → webhook', r.external),
    row('/api/v1 execute?wait=', r.v1Wait),
    row(`/api/v1 GET every ${r.settings.getPollIntervalMs} ms`, r.v1Poll),
    `  sequential medians: external execute answered 202 after ${r.external.sequential.acceptedP50Ms ?? '?'} ms, execution.started webhook after ${r.external.sequential.startedWebhookP50Ms ?? '?'} ms, execution.completed after ${r.external.sequential.p50Ms} ms; /api/v1 execute answered 202 after ${r.v1Poll.sequential.acceptedP50Ms ?? '?'} ms`,
    `  webhooks received ${r.webhooks.received}, signatures verified ${r.webhooks.verified}, bad ${r.webhooks.badSignatures.length}`,
    `  external ÷ /api/v1 ?wait=, median of the ${r.settings.rounds} rounds' paired ratios: throughput ${r.ratios.throughput.toFixed(2)} × (rounds ${r.ratios.throughputByRound.map((v) => v.toFixed(2)).join(', ')}; all rounds together ${r.ratios.throughputPooled.toFixed(2)} ×), p50 latency (inverted) ${r.ratios.latencyP50.toFixed(2)} × (rounds ${r.ratios.latencyP50ByRound.map((v) => v.toFixed(2)).join(', ')}; together ${r.ratios.latencyP50Pooled.toFixed(2)} ×)${r.valid ? '' : ' (INVALID run)'}`,
    `  external ÷ /api/v1 polling (reference): throughput ${r.ratios.throughputVsPolling.toFixed(2)} ×, p50 latency (inverted) ${r.ratios.latencyP50VsPolling.toFixed(2)} ×`,
    `  target ≥ ${r.target.minRatio} × of /api/v1 ?wait=: throughput ${r.valid ? met(r.ratios.throughput) : 'INVALID'}, latency ${r.valid ? met(r.ratios.latencyP50) : 'INVALID'}`,
  ];
}

/** `npm run bench -- external` writes results/external-latest.json and results/external-<ISO date>.json. */
export async function writeExternalResults(results: { startedAt: string } & Record<string, unknown>): Promise<string[]> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const paths = [`${RESULTS_DIR}external-latest.json`, `${RESULTS_DIR}external-${results.startedAt.replace(/:/g, '-')}.json`];
  for (const path of paths) await writeFile(path, text);
  return paths;
}
