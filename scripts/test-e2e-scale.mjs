#!/usr/bin/env node
// `npm run test:e2e:scale`: the end-to-end suite again, with every server it starts on
// PostgreSQL + BullMQ instead of SQLite + the memory queue. Expects a build (npm run build).
//
// - One fresh PostgreSQL database for the run (dropped after), given to every process as
//   BLOCKYARD_DATABASE_URL; BLOCKYARD_QUEUE=bullmq on the test Redis.
// - test/dist/support/scale-run-env.js is preloaded into every process: each data dir gets its
//   own schema and queue, so tests stay as apart as their SQLite files keep them.
// - Short worker leases, so that a killed server's executions move on within seconds.
// - Specs that look at the SQLite file itself, or test the memory queue's restart recovery,
//   are left out (they are about what this run replaces); the list is below.
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

/** Specs about SQLite files or the memory queue: nothing for PostgreSQL + BullMQ to show there. */
const LEFT_OUT = [
  'scale-out.e2e.spec.js', // already on PostgreSQL + BullMQ, every run
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
  const args = ['node_modules/mocha/bin/mocha.js', '--no-config', '--timeout', '60000', '--exit', '--spec', 'test/dist/**/*.e2e.spec.js', ...LEFT_OUT.flatMap((spec) => ['--ignore', `test/dist/${spec}`]), ...process.argv.slice(2)];
  console.log(`end-to-end suite on PostgreSQL (database ${database}) + BullMQ (${new URL(REDIS_URL).host})`);
  code = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        BLOCKYARD_DATABASE_URL: databaseUrl.toString(),
        BLOCKYARD_QUEUE: 'bullmq',
        BLOCKYARD_REDIS_URL: REDIS_URL,
        BLOCKYARD_WORKER_VISIBILITY_TIMEOUT_MS: '3000',
        BLOCKYARD_E2E_SCALE_RUN: run,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${PRELOAD}`.trim(),
      },
    });
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
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
