import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import knex from 'knex';
import { createKey, runBlockyard } from './support/cli.js';
import { pollExecution, request } from './support/http.js';
import { pluginFixture } from './support/plugin-fixtures.js';
import { createPostgresDatabase } from './support/postgres-database.js';
import { freePort, makeDataDir, removeDataDir, runServerToExit, startServerProcess, type ServerProcess } from './support/server-process.js';

const REDIS_URL = process.env.BLOCKYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MAX_ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const block = (id: string, input: Record<string, unknown>) => ({
  id,
  name: id,
  description: '',
  categories: [],
  input_schema: { type: 'object', properties: input },
  output_schema: { type: 'object', properties: { pid: { type: 'integer' } } },
});

/**
 * Blocks that tell which process ran them: `scale.slow` waits `ms` (stopping at once when
 * cancelled) and yields its worker's pid; `scale.crash` kills its worker outright, as a
 * native crash or an out-of-memory kill would.
 */
const SCALE_PLUGIN = {
  manifest: {
    name: 'scale-fixture',
    version: '1.0.0',
    entry: './index.mjs',
    blocks: [
      block('scale.slow', { ms: { type: 'integer', minimum: 0 } }),
      block('scale.crash', {}),
      {
        ...block('scale.relay', { ms: { type: 'integer', minimum: 0 }, token: { type: 'string' } }),
        input_schema: { type: 'object', required: ['ms', 'token'], properties: { ms: { type: 'integer', minimum: 0 }, token: { type: 'string' } } },
        output_schema: { type: 'object', properties: { token: { type: 'string' } } },
      },
    ],
  },
  entry: `
export const handlers = {
  'scale.slow': async ({ ms }, context) => {
    context.logger.info('slow block started', { pid: process.pid });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      context.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        context.logger.info('slow block stopped', { pid: process.pid });
        reject(new Error('stopped'));
      }, { once: true });
    });
    return { data: { pid: process.pid } };
  },
  'scale.relay': async ({ ms, token }, context) => {
    context.logger.info('relay block started', { pid: process.pid });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      context.signal.addEventListener('abort', () => { clearTimeout(timer); reject(new Error('stopped')); }, { once: true });
    });
    return { data: { token } };
  },
  'scale.crash': async (_inputs, context) => {
    context.logger.info('crash block started', { pid: process.pid });
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => {});
  },
};
`,
};

/** How many times a worker started the execution, as storage counts it (the API does not show it). */
async function attemptsOf(databaseUrl: string, executionId: string): Promise<number> {
  const db = knex({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
  try {
    const row = await db('executions').where({ id: executionId }).first('attempts');
    return Number(row?.attempts);
  } finally {
    await db.destroy();
  }
}

/** Log lines of `process` about `executionId` with message `msg`. */
const linesAbout = (process: ServerProcess, msg: string, executionId: string) => process.logs.filter((l) => l.msg === msg && l.executionId === executionId);

describe('scale-out: API and worker processes on PostgreSQL + BullMQ', function () {
  this.timeout(120_000);
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let pluginDir: string;
  let dataDir: string;
  let env: Record<string, string>;
  let key: string;
  let api: ServerProcess;
  /** Worker processes started so far, dead ones included; a crashed one is replaced, as a supervisor would. */
  const workers: ServerProcess[] = [];
  /** Workers still starting, so that none is left running after the suite. */
  const starting = new Set<Promise<ServerProcess>>();
  let stopping = false;

  const startWorker = (): Promise<ServerProcess> => {
    const start = startServerProcess({ ...env, BLOCKYARD_ROLE: 'worker' }, dataDir).then((worker) => {
      workers.push(worker);
      worker.child.once('exit', () => {
        if (!stopping) startWorker().catch((e: unknown) => console.error('could not replace a crashed worker:', e));
      });
      return worker;
    });
    starting.add(start);
    void start.finally(() => starting.delete(start)).catch(() => undefined);
    return start;
  };
  /** The worker whose logs say it started `executionId` with `msg`, once one does. */
  const workerRunning = async (executionId: string, msg = 'slow block started'): Promise<ServerProcess> => {
    for (let i = 0; i < 200; i++) {
      const found = workers.find((w) => linesAbout(w, msg, executionId).length > 0);
      if (found) return found;
      await sleep(50);
    }
    throw new Error(`no worker logged "${msg}" for ${executionId}`);
  };

  before(async () => {
    database = await createPostgresDatabase();
    pluginDir = pluginFixture(SCALE_PLUGIN.manifest, SCALE_PLUGIN.entry);
    dataDir = makeDataDir();
    env = {
      BLOCKYARD_DATABASE_URL: database.url,
      BLOCKYARD_QUEUE: 'bullmq',
      BLOCKYARD_REDIS_URL: REDIS_URL,
      BLOCKYARD_QUEUE_NAME: `scale-e2e-${randomBytes(5).toString('hex')}`,
      BLOCKYARD_QUEUE_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      // Short leases, so that a crashed worker's execution moves on within seconds.
      BLOCKYARD_WORKER_VISIBILITY_TIMEOUT_MS: '1500',
      // Two slots per worker: a burst of runs has to spread over both workers.
      BLOCKYARD_WORKER_CONCURRENCY: '2',
      // Every process must seal and open credentials with the same keys.
      BLOCKYARD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BLOCKYARD_PLUGINS: `@blockyard/plugin-example,${pluginDir}`,
      BLOCKYARD_DATA_DIR: dataDir,
    };
    key = await createKey(['READ_BLOCK', 'EXECUTE_BLOCK', 'READ_RUN', 'WRITE_RUN'], env);
    api = await startServerProcess({ ...env, BLOCKYARD_ROLE: 'api' }, dataDir);
    await Promise.all([startWorker(), startWorker()]);
  });

  after(async () => {
    stopping = true;
    await Promise.allSettled([...starting]);
    await Promise.all([api, ...workers].filter(Boolean).map((p) => p.stop()));
    await database?.drop();
    if (env?.BLOCKYARD_QUEUE_NAME) {
      const redis = new Redis(REDIS_URL);
      try {
        const keys = await redis.keys(`blockyard:${env.BLOCKYARD_QUEUE_NAME}:*`);
        if (keys.length) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    }
    if (dataDir) removeDataDir(dataDir);
    if (pluginDir) rmSync(pluginDir, { recursive: true, force: true });
  });

  it('runs the HTTP API alone in the api process and the worker alone in the worker processes', () => {
    expect(api.logs.find((l) => l.msg === 'blockyard listening')).to.include({ role: 'api' });
    expect(String(api.logs.find((l) => l.msg === 'blockyard listening')?.queue)).to.match(/^bullmq 127\.0\.0\.1:6379 queue scale-e2e-/);
    for (const worker of workers) {
      expect(worker.url).to.equal('');
      expect(worker.logs.find((l) => l.msg === 'blockyard worker ready')).to.include({ role: 'worker', health: null });
      expect(worker.logs.some((l) => l.msg === 'blockyard listening')).to.equal(false);
    }
  });

  it('runs the executions submitted to the api on both workers, never on the api', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await request(api.url, 'POST', '/api/v1/blocks/scale.slow/execute', { key, body: { inputs: { ms: 300 } } });
      expect(res.status).to.equal(202);
      ids.push(res.body.execution_id);
    }
    const pids = new Set<number>();
    for (const id of ids) {
      const done = await pollExecution(api.url, key, id, ['completed', 'failed', 'cancelled'], 30_000);
      expect(done.status, JSON.stringify(done)).to.equal('completed');
      pids.add(done.outputs.pid[0]);
    }
    expect([...pids].sort()).to.deep.equal(workers.map((w) => w.child.pid).sort());
    expect(pids.has(api.child.pid!)).to.equal(false);
  });

  it('answers ?wait= on the api with the execution a worker finished', async () => {
    const res = await request(api.url, 'POST', '/api/v1/blocks/scale.slow/execute?wait=20', { key, body: { inputs: { ms: 200 } } });
    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal('completed');
    expect(workers.map((w) => w.child.pid)).to.include(res.body.outputs.pid[0]);
    const echo = await request(api.url, 'POST', '/api/v1/blocks/example.echo/execute?wait=20', { key, body: { inputs: { text: 'across processes' } } });
    expect(echo.status).to.equal(200);
    expect(echo.body).to.include({ status: 'completed' });
    expect(echo.body.outputs).to.deep.equal({ text: ['across processes'] });
  });

  it('stops a running block on its worker when the api cancels it', async () => {
    const res = await request(api.url, 'POST', '/api/v1/blocks/scale.slow/execute', { key, body: { inputs: { ms: 60_000 } } });
    const id = res.body.execution_id;
    const worker = await workerRunning(id);
    const cancelled = await request(api.url, 'POST', `/api/v1/executions/${id}/cancel`, { key });
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body.status).to.equal('cancelled');
    // The block itself stopped on the worker (long before its 60 s were up).
    for (let i = 0; i < 100 && linesAbout(worker, 'slow block stopped', id).length === 0; i++) await sleep(50);
    expect(linesAbout(worker, 'slow block stopped', id)).to.have.length(1);
    expect((await request(api.url, 'GET', `/api/v1/executions/${id}`, { key })).body.status).to.equal('cancelled');
  });

  it('finishes on another worker an execution whose worker was killed (-9) mid-run', async () => {
    const res = await request(api.url, 'POST', '/api/v1/blocks/scale.slow/execute', { key, body: { inputs: { ms: 3000 } } });
    const id = res.body.execution_id;
    const doomed = await workerRunning(id);
    const doomedPid = doomed.child.pid;
    await doomed.kill();
    expect((await request(api.url, 'GET', `/api/v1/executions/${id}`, { key })).body.status).to.equal('running');
    const done = await pollExecution(api.url, key, id, ['completed', 'failed', 'cancelled'], 30_000);
    expect(done.status, JSON.stringify(done)).to.equal('completed');
    expect(done.outputs.pid[0]).not.to.equal(doomedPid);
    expect(await attemptsOf(database.url, id)).to.equal(2);
  });

  it(`fails, after ${MAX_ATTEMPTS} attempts and with a clear error, an execution whose block crashes every worker that runs it`, async () => {
    const res = await request(api.url, 'POST', '/api/v1/blocks/scale.crash/execute', { key, body: { inputs: {} } });
    const id = res.body.execution_id;
    const done = await pollExecution(api.url, key, id, ['completed', 'failed', 'cancelled'], 60_000);
    expect(done.status).to.equal('failed');
    expect(done.error).to.match(new RegExp(`^gave up after ${MAX_ATTEMPTS} attempts: the worker running it was lost`));
    expect(await attemptsOf(database.url, id)).to.equal(MAX_ATTEMPTS);
    // Work goes on, on the workers that replaced the crashed ones.
    const after = await request(api.url, 'POST', '/api/v1/blocks/example.echo/execute?wait=20', { key, body: { inputs: { text: 'still working' } } });
    expect(after.body.status).to.equal('completed');
  });

  describe('agents', () => {
    const relay = (id: string, ms: number) => ({ id, kind: 'block', block_id: 'scale.relay', inputs: { ms } });
    const link = (from: string, output: string, to: string) => ({ source_node_id: from, source_output: output, sink_node_id: to, sink_input: 'token' });
    /** in -> first (fast) -> slow -> last (fast) -> out */
    const chain = {
      name: 'relay chain',
      nodes: [{ id: 'in', kind: 'input', name: 'token', schema: { type: 'string' }, required: true }, relay('first', 10), relay('slow', 3000), relay('last', 10), { id: 'out', kind: 'output', name: 'token', schema: { type: 'string' } }],
      links: [link('in', 'value', 'first'), link('first', 'token', 'slow'), link('slow', 'token', 'last'), { source_node_id: 'last', source_output: 'token', sink_node_id: 'out', sink_input: 'value' }],
    };
    let agentKey: string;
    let agentId: string;
    const started = (executionId: string, nodeId: string) => workers.flatMap((w) => linesAbout(w, 'relay block started', executionId).filter((l) => l.nodeId === nodeId));

    before(async () => {
      agentKey = await createKey(['READ_GRAPH', 'WRITE_GRAPH', 'RUN_AGENT', 'READ_RUN', 'WRITE_RUN'], env);
      const created = await request(api.url, 'POST', '/api/v1/agents', { key: agentKey, body: chain });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      agentId = created.body.id;
    });

    it('finishes an agent on another worker when the worker running its slow node is killed (-9); no finished node runs again', async () => {
      const res = await request(api.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key: agentKey, body: { inputs: { token: 'relayed' } } });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      const id = res.body.execution_id as string;
      let doomed: ServerProcess | undefined;
      for (let i = 0; i < 200 && !doomed; i++) {
        doomed = workers.find((w) => linesAbout(w, 'relay block started', id).some((l) => l.nodeId === 'slow'));
        if (!doomed) await sleep(50);
      }
      expect(doomed, 'a worker started the slow node').to.not.equal(undefined);
      await doomed!.kill();
      const done = await pollExecution(api.url, agentKey, id, ['completed', 'failed', 'cancelled'], 45_000);
      expect(done.status, JSON.stringify(done)).to.equal('completed');
      expect(done.outputs).to.deep.equal({ token: ['relayed'] });
      const nodes = Object.fromEntries((done.nodes as { node_id: string; attempts: number; status: string }[]).map((n) => [n.node_id, n]));
      expect(nodes.first).to.include({ status: 'completed', attempts: 1 });
      expect(nodes.slow).to.include({ status: 'completed', attempts: 2 });
      expect(nodes.last).to.include({ status: 'completed', attempts: 1 });
      expect(started(id, 'first')).to.have.length(1);
      expect(started(id, 'slow')).to.have.length(2);
    });

    it('cancels an agent across processes: the node running on a worker stops and the execution stays cancelled', async () => {
      const res = await request(api.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key: agentKey, body: { inputs: { token: 'stop me' } } });
      const id = res.body.execution_id as string;
      for (let i = 0; i < 200 && started(id, 'slow').length === 0; i++) await sleep(50);
      const cancelled = await request(api.url, 'POST', `/api/v1/executions/${id}/cancel`, { key: agentKey });
      expect(cancelled.body.status).to.equal('cancelled');
      let slow: { status: string } | undefined;
      for (let i = 0; i < 100; i++) {
        const now = await request(api.url, 'GET', `/api/v1/executions/${id}`, { key: agentKey });
        slow = (now.body.nodes as { node_id: string; status: string }[]).find((n) => n.node_id === 'slow');
        if (slow?.status === 'cancelled') break;
        await sleep(50);
      }
      expect(slow?.status).to.equal('cancelled');
      expect(started(id, 'last')).to.have.length(0);
    });
  });

  it('gives a worker a health endpoint on BLOCKYARD_HEALTH_PORT, and nothing else there', async () => {
    const port = await freePort();
    const worker = await startServerProcess({ ...env, BLOCKYARD_ROLE: 'worker', BLOCKYARD_HEALTH_PORT: String(port) }, dataDir);
    try {
      expect(worker.url).to.equal('');
      const base = `http://127.0.0.1:${port}`;
      const health = await request(base, 'GET', '/healthz');
      expect(health.status).to.equal(200);
      expect(health.body).to.deep.equal({ status: 'ok', role: 'worker' });
      expect((await request(base, 'GET', '/api/v1/blocks', { key })).status).to.equal(404);
      expect(worker.logs.find((l) => l.msg === 'blockyard worker ready')?.health).to.equal(base);
    } finally {
      expect(await worker.stop()).to.equal(0);
    }
  });
});

describe('scale-out configuration', function () {
  this.timeout(30_000);

  for (const role of ['api', 'worker']) {
    it(`refuses role ${role} with the memory queue: exit 2, saying to use BullMQ`, async () => {
      const { code, output } = await runServerToExit({ BLOCKYARD_ROLE: role, BLOCKYARD_QUEUE: 'memory' });
      expect(code).to.equal(2);
      expect(output).to.contain(`BLOCKYARD_ROLE=${role} needs a queue shared between processes: set BLOCKYARD_QUEUE=bullmq`);
    });
  }

  it('refuses an unknown role or queue: exit 2, naming the variables', async () => {
    const { code, output } = await runServerToExit({ BLOCKYARD_ROLE: 'both', BLOCKYARD_QUEUE: 'kafka' });
    expect(code).to.equal(2);
    expect(output).to.contain('BLOCKYARD_ROLE must be one of all, api, worker').and.to.contain('BLOCKYARD_QUEUE must be one of memory, bullmq');
  });

  it('makes `blockyard serve --role` refuse an unknown role: exit 2, listing the roles', async () => {
    const result = await runBlockyard(['serve', '--role', 'both'], {});
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain("argument 'both' is invalid").and.to.contain('all, api, worker');
  });

  it('stops at start, exit 1, when Redis is unreachable, naming it without its password', async () => {
    const dataDir = makeDataDir();
    try {
      const { code, output } = await runServerToExit({ BLOCKYARD_QUEUE: 'bullmq', BLOCKYARD_REDIS_URL: 'redis://:s3cret-pw@127.0.0.1:1', BLOCKYARD_DATA_DIR: dataDir, PORT: '0' });
      expect(code).to.equal(1);
      expect(output).to.contain('could not start: Redis at 127.0.0.1:1 is unreachable');
      expect(output).not.to.contain('s3cret-pw');
    } finally {
      removeDataDir(dataDir);
    }
  });
});

