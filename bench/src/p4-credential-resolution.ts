/**
 * P4: what resolving a user's credential adds to a run.
 *
 * Two runs of the same kind, measured alike in the same bench run, through the real pieces:
 * `RunContextFactory.forRun()` over a `UserCredentialResolver` on the knex SQLite storage (a
 * file in a temporary dir, WAL, as the server uses it) and a real `AesGcmSecretCipher`, then
 * `BlockEngine.run()` of a block whose handler makes one `context.fetch('/item')` through
 * `NodeOutboundHttp` to a keep-alive node:http server on 127.0.0.1 (in a worker thread).
 *
 * - baseline: a block of the same provider that needs no credential;
 * - subject: a block that needs an api_key credential, the run naming the user's credential,
 *   resolved as the server does for each execution: `check()` when the execute request is
 *   accepted, then `forRun()` when it runs — lookup, owner/provider/kind/scope checks,
 *   AES-256-GCM decrypt + JSON parse, and injection of the key into the request's `X-Api-Key`
 *   header (the server checks it). The server's credential cache is on (1 s TTL, sealed rows),
 *   so a credential used again within a second is not read again.
 * - cold subject: the same with the cache emptied before each execution, so each execution
 *   reads the row once (the check at acceptance) — the first use of a credential in a process.
 *
 * Added µs per run = subject µs/run − baseline µs/run. Target: ≤ 50 µs. Also shown: the same
 * difference without the block run and its request (`forRun` + `createFetch` only), which
 * isolates lookup + decrypt from the request's noise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  BlockEngine,
  CredentialCache,
  InMemoryBlockRegistry,
  ProviderRegistry,
  RunContextFactory,
  SystemClock,
  SystemCredentialResolver,
  UserCredentialResolver,
  sealCredentialSecret,
  type Block,
  type RegisteredBlock,
} from '@blockyard/core';
import { userFixture } from '@blockyard/core/testing';
import { AesGcmSecretCipher, KeyRing } from '@blockyard/secret-cipher';
import { createKnexStorage } from '@blockyard/storage-knex';
import { NodeOutboundHttp } from '@blockyard/http-outbound';
import type { BenchSettings } from './settings.js';
import { startWorkerHttpServer } from './worker-http-server.js';
import { combine, measure, type Batch, type RoundedThroughput, type Throughput } from './timing.js';

export const P4_TARGET = { maxAddedMicros: 50 } as const;

/** Runs between two looks at the clock. */
const OPS_PER_BATCH = 64;
/** Rounds each measurement is split into, interleaved with the other subjects'. */
/** Paired rounds: each round measures every subject once, one after the other. */
const ROUNDS = 9;
const SECRET = 'bench-api-key-secret-value';

export interface P4Variant {
  what: string;
  baseline: RoundedThroughput;
  withCredential: RoundedThroughput;
  /**
   * µs per run the credential adds: the median over rounds of (subject − baseline) measured in
   * the same round, which cancels the machine's drift between rounds.
   */
  addedMicros: number;
}

export interface P4Result {
  target: typeof P4_TARGET;
  settings: { storage: string; cipher: string; server: string; opsPerBatch: number; rounds: number };
  /** The full run (resolution + block run + one request), credential cache on. */
  headline: P4Variant & { meetsTarget: boolean };
  /** The full run with the cache emptied before each execution: one storage read per run. */
  cold: P4Variant;
  /** forRun + createFetch only: lookup + decrypt + injector, without the run and its request. */
  resolutionOnly: P4Variant;
}

function startServer(): Promise<{ url: string; close(): Promise<void> }> {
  return startWorkerHttpServer("return Buffer.from(JSON.stringify({ ok: true, authorized: req.headers['x-api-key'] === workerData.secret }));", { secret: SECRET });
}

const ioSchemas = {
  input_schema: { type: 'object', properties: {} },
  output_schema: { type: 'object', properties: { authorized: { type: 'boolean' } } },
} as const;

/** A block that makes one request through context.fetch and returns whether it was authorized. */
function fetchingBlock(id: string, needsCredential: boolean): Block {
  return {
    definition: {
      id,
      name: id,
      description: 'one context.fetch (benchmark)',
      categories: ['bench'],
      ...ioSchemas,
      ...(needsCredential ? { credentials: { provider: 'bench', kinds: ['api_key'], scopes: ['bench:read'] } } : {}),
    },
    async handler(_inputs, context) {
      const res = await context.fetch<{ authorized: boolean }>('/item');
      return { data: { authorized: res.data.authorized } };
    },
  };
}

export async function runP4(settings: BenchSettings, log: (line: string) => void): Promise<P4Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'blockyard-bench-p4-'));
  const server = await startServer();
  const storage = await createKnexStorage({ dataDir });
  const outbound = new NodeOutboundHttp({ allowHosts: ['127.0.0.1'], maxRetries: 0 });
  try {
    const clock = new SystemClock();
    const cipher = new AesGcmSecretCipher(KeyRing.generate());
    const user = userFixture();
    await storage.users.create(user);
    const credentialId = randomUUID();
    const now = clock.now();
    await storage.credentials.create({
      id: credentialId,
      userId: user.id,
      provider: 'bench',
      kind: 'api_key',
      title: 'bench key',
      scopes: ['bench:read'],
      status: 'active',
      expiresAt: null,
      secret: sealCredentialSecret(cipher, credentialId, { kind: 'api_key', api_key: SECRET }),
      createdAt: now,
      updatedAt: now,
    });

    const providers = new ProviderRegistry();
    providers.registerAll(
      [{ name: 'bench', display_name: 'Bench', base_url: server.url, auth: [{ type: 'api_key', in: 'header', name: 'X-Api-Key' }], integration_scopes: { 'bench:read': [] } }],
      'bench',
    );
    const cache = new CredentialCache({ ttlMs: 1000 });
    const resolver = new UserCredentialResolver({ credentials: storage.credentials, cipher, fallback: new SystemCredentialResolver(), clock, cache });
    const factory = new RunContextFactory({ providers, credentials: resolver, outbound });
    const registry = new InMemoryBlockRegistry();
    const plain = registry.register(fetchingBlock('bench.fetch_plain', false), 'bench');
    const withKey = registry.register(fetchingBlock('bench.fetch_with_key', true), 'bench');
    const engine = new BlockEngine();
    const signal = new AbortController().signal;

    /** What the server does with a run's credential: check it on acceptance, resolve it to run. */
    const accept = async (block: RegisteredBlock, credential: string | undefined, cold: boolean): Promise<void> => {
      if (cold) cache.clear();
      const requirement = block.definition.credentials;
      if (requirement) await resolver.check({ userId: user.id, requirement, credentialId: credential });
    };
    const fullRun = (block: RegisteredBlock, credential?: string, expectAuthorized = false, cold = false): Batch => async () => {
      for (let i = 0; i < OPS_PER_BATCH; i++) {
        await accept(block, credential, cold);
        const parts = await factory.forRun(block, user.id, credential);
        const outcome = await engine.run(block, {}, { executionId: 'bench', credentials: parts.credentials, createFetch: parts.createFetch });
        if (outcome.status !== 'completed') throw new Error(`bench run failed: ${outcome.error}`);
        if (outcome.outputs.authorized?.[0] !== expectAuthorized) throw new Error(`bench run: authorized ${String(outcome.outputs.authorized?.[0])}, expected ${expectAuthorized}`);
      }
      return OPS_PER_BATCH;
    };
    const resolveOnly = (block: RegisteredBlock, credential?: string): Batch => async () => {
      for (let i = 0; i < OPS_PER_BATCH; i++) {
        await accept(block, credential, false);
        const parts = await factory.forRun(block, user.id, credential);
        if (typeof parts.createFetch!(signal) !== 'function') throw new Error('no context.fetch');
      }
      return OPS_PER_BATCH;
    };
    const specs = [
      { name: 'full:baseline', batch: fullRun(plain) },
      { name: 'full:credential', batch: fullRun(withKey, credentialId, true) },
      { name: 'full:credential-cold', batch: fullRun(withKey, credentialId, true, true) },
      { name: 'resolve:baseline', batch: resolveOnly(plain) },
      { name: 'resolve:credential', batch: resolveOnly(withKey, credentialId) },
    ];

    log(`P4 warming up (${settings.warmupSeconds} s per subject)...`);
    for (const spec of specs) await measure(spec.batch, settings.warmupSeconds);
    log(`P4 measuring ${specs.length} subjects, ${settings.seconds} s each in ${ROUNDS} interleaved rounds...`);
    const parts = specs.map(() => [] as Throughput[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, spec] of specs.entries()) parts[i]!.push(await measure(spec.batch, settings.seconds / ROUNDS));
    }
    const [fullBase, fullCred, fullCold, resolveBase, resolveCred] = parts.map(combine) as [RoundedThroughput, RoundedThroughput, RoundedThroughput, RoundedThroughput, RoundedThroughput];
    const variant = (what: string, baseline: RoundedThroughput, withCredential: RoundedThroughput): P4Variant => ({
      what,
      baseline,
      withCredential,
      addedMicros: medianDifference(withCredential, baseline) / 1000,
    });
    const full = variant('check + forRun + BlockEngine.run + one context.fetch request', fullBase, fullCred);
    return {
      target: P4_TARGET,
      settings: {
        storage: 'knex + sqlite3 file (WAL), one credential row, credential cache 1 s',
        cipher: 'AesGcmSecretCipher, AES-256-GCM',
        server: 'node:http keep-alive on 127.0.0.1, in a worker thread',
        opsPerBatch: OPS_PER_BATCH,
        rounds: ROUNDS,
      },
      headline: { ...full, meetsTarget: full.addedMicros <= P4_TARGET.maxAddedMicros },
      cold: variant('same, cache emptied before each execution', fullBase, fullCold),
      resolutionOnly: variant('check + forRun + createFetch only', resolveBase, resolveCred),
    };
  } finally {
    await outbound.close();
    await storage.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits = 1): string => n.toFixed(digits);

export function p4Summary(p4: P4Result): string[] {
  const rows = [['', 'runs/s', 'rounds min–max', 'µs/run', 'added µs']];
  for (const v of [p4.headline, p4.cold, p4.resolutionOnly]) {
    const row = (what: string, t: RoundedThroughput, added: string): string[] => [what, int(t.opsPerSec), `${int(Math.min(...t.roundsOpsPerSec))}–${int(Math.max(...t.roundsOpsPerSec))}`, fixed(t.nsPerOp / 1000), added];
    rows.push(row(`${v.what}, no credential`, v.baseline, ''), row(`${v.what}, user credential`, v.withCredential, fixed(v.addedMicros)));
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const lines = rows.map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  '));
  return [
    `P4 — per-run credential resolution (lookup + decrypt + injection) against a run without credentials (${p4.settings.storage}; ${p4.settings.cipher})`,
    ...lines.map((line) => `  ${line}`),
    `  headline: a user credential adds ${fixed(p4.headline.addedMicros)} µs per run (lookup + decrypt alone: ${fixed(p4.resolutionOnly.addedMicros)} µs; first use in a process, one storage read: ${fixed(p4.cold.addedMicros)} µs)`,
    `  target ≤ ${p4.target.maxAddedMicros} µs added per run: ${p4.headline.meetsTarget ? 'MET' : 'NOT MET'}`,
  ];
}

/** The median of per-round differences in ns per operation (rounds measured side by side). */
function medianDifference(subject: RoundedThroughput, baseline: RoundedThroughput): number {
  const diffs = subject.roundsOpsPerSec.map((ops, i) => 1e9 / ops - 1e9 / baseline.roundsOpsPerSec[i]!).sort((a, b) => a - b);
  const mid = Math.floor(diffs.length / 2);
  return diffs.length % 2 ? diffs[mid]! : (diffs[mid - 1]! + diffs[mid]!) / 2;
}
