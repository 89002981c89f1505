/**
 * P3: the cost of `context.fetch` per request, against a plain `fetch`.
 *
 * A keep-alive node:http server on 127.0.0.1, in a worker thread (its own event loop, so the
 * other core serves while this thread measures the clients), answers every GET with the same
 * small JSON body. Two clients request it, measured alike in the same run:
 *
 * - baseline: Node's global `fetch(url)` then `await res.json()`;
 * - subject: `NodeOutboundHttp.createFetch({ credential: bearer, baseUrl })` with
 *   `allowHosts: ['127.0.0.1']`, then `await fetch('/item')`: URL resolution, bearer
 *   injection, the SSRF check, the timeout and retry bookkeeping and the JSON parse.
 *
 * Each runs sequentially (one request in flight) and with CONCURRENCY requests in flight.
 * Ratio: subject ns/request ÷ baseline ns/request, per mode. Target: ≤ 1.3 in both modes;
 * the headline is the worse of the two.
 *
 * Reference (informational, no target): undici's `Agent.request()` plus `body.json()` on an
 * unguarded agent, the floor under `context.fetch`.
 */
import { NodeOutboundHttp } from '@blockyard/http-outbound';
import { Agent } from 'undici';
import type { BenchSettings } from './settings.js';
import { startWorkerHttpServer } from './worker-http-server.js';
import { combine, measure, type Batch, type RoundedThroughput, type Throughput } from './timing.js';

export const P3_TARGET = { maxRatio: 1.3 } as const;

/** Requests in flight at once in the concurrent mode. */
const CONCURRENCY = 16;
/** Requests between two looks at the clock. */
const OPS_PER_BATCH = 96;
/** Rounds each measurement is split into, interleaved with the other subjects'. */
const ROUNDS = 3;

const BODY = { id: 42, name: 'widget', tags: ['a', 'b'], ok: true };

type Mode = 'sequential' | 'concurrent';

export interface P3Variant {
  mode: Mode;
  concurrency: number;
  baseline: RoundedThroughput;
  contextFetch: RoundedThroughput;
  reference: RoundedThroughput;
  /** context.fetch ns/request ÷ global fetch ns/request. */
  ratio: number;
  meetsTarget: boolean;
}

export interface P3Result {
  target: typeof P3_TARGET;
  settings: { server: string; body: string; concurrency: number; opsPerBatch: number; rounds: number };
  baselineWhat: string;
  subjectWhat: string;
  referenceWhat: string;
  variants: P3Variant[];
  /** The variant with the higher (worse) ratio. */
  headline: P3Variant;
}

function startServer(): Promise<{ url: string; close(): Promise<void> }> {
  return startWorkerHttpServer('return Buffer.from(workerData.body);', { body: JSON.stringify(BODY) });
}

type Request = () => Promise<unknown>;

function expectBody(data: unknown): void {
  if ((data as typeof BODY | null)?.id !== 42) throw new Error(`unexpected response body: ${JSON.stringify(data)}`);
}

function batchOf(request: Request, mode: Mode): Batch {
  if (mode === 'sequential') {
    return async () => {
      for (let i = 0; i < OPS_PER_BATCH; i++) expectBody(await request());
      return OPS_PER_BATCH;
    };
  }
  const groups = Math.max(1, Math.round(OPS_PER_BATCH / CONCURRENCY));
  return async () => {
    const inFlight = new Array<Promise<unknown>>(CONCURRENCY);
    for (let g = 0; g < groups; g++) {
      for (let i = 0; i < CONCURRENCY; i++) inFlight[i] = request();
      for (const data of await Promise.all(inFlight)) expectBody(data);
    }
    return groups * CONCURRENCY;
  };
}

export async function runP3(settings: BenchSettings, log: (line: string) => void): Promise<P3Result> {
  const server = await startServer();
  const outbound = new NodeOutboundHttp({ allowHosts: ['127.0.0.1'] });
  const agent = new Agent();
  try {
    const url = `${server.url}/item`;
    const contextFetch = outbound.createFetch({ credential: { type: 'bearer', token: 'bench-token' }, baseUrl: server.url, signal: new AbortController().signal });
    const subjects: Record<'baseline' | 'contextFetch' | 'reference', Request> = {
      baseline: async () => (await fetch(url)).json(),
      contextFetch: async () => (await contextFetch('/item')).data,
      reference: async () => (await agent.request({ origin: server.url, path: '/item', method: 'GET' })).body.json(),
    };
    const modes: Mode[] = ['sequential', 'concurrent'];
    const specs = modes.flatMap((mode) => (['baseline', 'contextFetch', 'reference'] as const).map((subject) => ({ mode, subject, batch: batchOf(subjects[subject], mode) })));

    log(`P3 warming up (${settings.warmupSeconds} s per subject)...`);
    for (const spec of specs) await measure(spec.batch, settings.warmupSeconds);

    log(`P3 measuring ${specs.length} subjects, ${settings.seconds} s each in ${ROUNDS} interleaved rounds...`);
    const parts = specs.map(() => [] as Throughput[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, spec] of specs.entries()) parts[i]!.push(await measure(spec.batch, settings.seconds / ROUNDS));
    }
    const results = parts.map(combine);
    const resultOf = (mode: Mode, subject: string): RoundedThroughput => results[specs.findIndex((s) => s.mode === mode && s.subject === subject)]!;

    const variants: P3Variant[] = modes.map((mode) => {
      const baseline = resultOf(mode, 'baseline');
      const subject = resultOf(mode, 'contextFetch');
      const ratio = subject.nsPerOp / baseline.nsPerOp;
      return { mode, concurrency: mode === 'sequential' ? 1 : CONCURRENCY, baseline, contextFetch: subject, reference: resultOf(mode, 'reference'), ratio, meetsTarget: ratio <= P3_TARGET.maxRatio };
    });
    const headline = variants.reduce((worst, v) => (v.ratio > worst.ratio ? v : worst));
    return {
      target: P3_TARGET,
      settings: { server: 'node:http keep-alive on 127.0.0.1, in a worker thread', body: JSON.stringify(BODY), concurrency: CONCURRENCY, opsPerBatch: OPS_PER_BATCH, rounds: ROUNDS },
      baselineWhat: 'global fetch(url) + res.json()',
      subjectWhat: "context.fetch('/item'): bearer injection, SSRF check (allowHosts ['127.0.0.1']), JSON parse",
      referenceWhat: 'undici Agent.request() + body.json(), no guard',
      variants,
      headline,
    };
  } finally {
    await outbound.close();
    await agent.close();
    await server.close();
  }
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits = 2): string => n.toFixed(digits);

export function p3Summary(p3: P3Result): string[] {
  const rows = [['', 'req/s', 'rounds min–max', 'µs/req', '× fetch']];
  for (const v of p3.variants) {
    const mode = v.mode === 'sequential' ? 'sequential' : `${v.concurrency} concurrent`;
    const row = (what: string, t: RoundedThroughput): string[] => [
      `${what}, ${mode}`,
      int(t.opsPerSec),
      `${int(Math.min(...t.roundsOpsPerSec))}–${int(Math.max(...t.roundsOpsPerSec))}`,
      fixed(t.nsPerOp / 1000, 1),
      fixed(t.nsPerOp / v.baseline.nsPerOp),
    ];
    rows.push(row('baseline: global fetch + res.json()', v.baseline), row('context.fetch', v.contextFetch), row('reference: undici Agent.request', v.reference));
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const lines = rows.map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  '));
  return [
    `P3 — context.fetch vs global fetch, GET of a ${p3.settings.body.length}-byte JSON body (${p3.settings.server})`,
    ...lines.map((line) => `  ${line}`),
    `  headline (worse mode: ${p3.headline.mode}): context.fetch ${fixed(p3.headline.ratio)} × global fetch per request`,
    `  target ≤ ${p3.target.maxRatio} × global fetch in both modes: ${p3.variants.every((v) => v.meetsTarget) ? 'MET' : 'NOT MET'}`,
  ];
}
