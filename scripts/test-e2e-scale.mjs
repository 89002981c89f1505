#!/usr/bin/env node
// `npm run test:e2e:scale`: the end-to-end suite again, with every server it starts on
// PostgreSQL + BullMQ instead of SQLite + the memory queue. Expects a build (npm run build).
//
// - One fresh PostgreSQL database for the run (dropped after), given to every process as
//   BLOCKYARD_DATABASE_URL; BLOCKYARD_QUEUE=bullmq on the test Redis.
// - test/dist/support/scale-run-env.js is preloaded into every process: each data dir gets its
//   own schema and queue, so tests stay as apart as their SQLite files keep them.
// - Tests tied to SQLite files or to the memory queue are left out, by title (list below).
// - Short worker leases, so that a killed server's executions move on within seconds.
// Exits with mocha's code. BLOCKYARD_TEST_POSTGRES_URL and BLOCKYARD_TEST_REDIS_URL point
// elsewhere than 127.0.0.1.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN_URL = process.env.BLOCKYARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BLOCKYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PRELOAD = join(ROOT, 'test/dist/support/scale-run-env.js');

/** Specs left out: already on PostgreSQL + BullMQ in every run. */
const LEFT_OUT = ['scale-out.e2e.spec.js'];
/**
 * Tests left out, by title: they read the data dir's SQLite file, compose Blockyard in the
 * test process with `readConfig({ BLOCKYARD_DATA_DIR })` (which names SQLite whatever this run
 * sets), or test the memory queue's restart recovery. Nothing of PostgreSQL + BullMQ to show.
 */
const TESTS_LEFT_OUT = [
  // reads the SQLite file
  'prints the key alone on the last line and stores only its hash',
  // the memory queue's recovery on restart (a durable queue has nothing to recover)
  'completes an execution left queued by a crashed server, and restarts the one left running',
  // compose in the test process over the data dir
  'answers bad input, missing scopes and other users with the documented errors, storing nothing',
  'checks credentials: the caller’s own of the right provider passes, another user’s is not found',
  "answers 404 for another user's agent and never lists it",
  "answers 404 for another user's key and for unknown ids, and lists only the caller's keys",
  "answers 404 for another user's credential, at execute and at delete",
  "answers 404 for another user's execution, and 404 to cancel it",
  // (a sequence of tests sharing state, so all of it)
  'triggers and inbound webhooks over HTTP (GitHub stand-in) auto mode',
];

if (!existsSync(PRELOAD)) {
  console.error(`${PRELOAD} is missing: run npm run build first`);
  process.exit(2);
}

const run = randomBytes(4).toString('hex');
const database = `blockyard_e2e_scale_${run}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE "${database}"`);
const databaseUrl = new URL(ADMIN_URL);
databaseUrl.pathname = `/${database}`;

let code = 1;
try {
  const escape = (title) => title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const args = [
    'node_modules/mocha/bin/mocha.js',
    '--no-config',
    '--timeout',
    '60000',
    '--exit',
    '--spec',
    'test/dist/**/*.e2e.spec.js',
    ...LEFT_OUT.flatMap((spec) => ['--ignore', `test/dist/${spec}`]),
    '--grep',
    TESTS_LEFT_OUT.map(escape).join('|'),
    '--invert',
    ...process.argv.slice(2),
  ];
  console.log(`end-to-end suite on PostgreSQL (database ${database}) + BullMQ (${new URL(REDIS_URL).host}); left out: ${LEFT_OUT.length} spec file(s), ${TESTS_LEFT_OUT.length} test(s) tied to SQLite files or the memory queue`);
  code = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        BLOCKYARD_DATABASE_URL: databaseUrl.toString(),
        BLOCKYARD_E2E_SCALE_DATABASE_URL: databaseUrl.toString(),
        BLOCKYARD_QUEUE: 'bullmq',
        BLOCKYARD_REDIS_URL: REDIS_URL,
        BLOCKYARD_WORKER_VISIBILITY_TIMEOUT_MS: '3000',
        BLOCKYARD_E2E_SCALE_RUN: run,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${PRELOAD}`.trim(),
      },
    });
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  // The servers did run on PostgreSQL + BullMQ: their schemas and queues are there.
  const used = new pg.Client({ connectionString: databaseUrl.toString() });
  await used.connect();
  const schemas = Number((await used.query("select count(*) as n from information_schema.schemata where schema_name like 'e2e\\_%'")).rows[0].n);
  await used.end();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const queues = new Set((await redis.keys(`blockyard:e2e-${run}-*:meta`)).map((key) => key.split(':')[1]));
  redis.disconnect();
  console.log(`the servers of this run used ${schemas} PostgreSQL schema(s) and ${queues.size} BullMQ queue(s)`);
  if (code === 0 && (schemas === 0 || queues.size === 0)) {
    console.error('no server of this run used PostgreSQL and BullMQ: the run proves nothing');
    code = 1;
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch((e) => console.error(`could not drop ${database}: ${e.message}`));
  await admin.end();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `blockyard:e2e-${run}-*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch (e) {
    console.error(`could not remove the run's Redis keys: ${e.message}`);
  } finally {
    redis.disconnect();
  }
}
process.exit(code);
