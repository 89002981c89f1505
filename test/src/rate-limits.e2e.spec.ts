import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createKey } from './support/cli.js';
import { request, type JsonResponse } from './support/http.js';
import { createPostgresDatabase } from './support/postgres-database.js';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';

const REDIS_URL = process.env.BLOCKYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCOPES = ['READ_BLOCK', 'EXECUTE_BLOCK', 'READ_RUN', 'WRITE_RUN'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Small limits, so that a test reaches them in a few requests; writes have a 3 s window to see a reset. */
const LIMITS = {
  BLOCKYARD_RATE_LIMITS: 'on',
  BLOCKYARD_RATE_LIMIT_OAUTH: '3/min',
  BLOCKYARD_RATE_LIMIT_EXECUTE: '2/min,3/h',
  BLOCKYARD_RATE_LIMIT_READ: '5/min',
  BLOCKYARD_RATE_LIMIT_WRITE: '2/3s',
  BLOCKYARD_PLUGINS: '@blockyard/plugin-example',
};

function rateLimitHeaders(res: { headers: Headers }) {
  return { limit: res.headers.get('x-ratelimit-limit'), remaining: res.headers.get('x-ratelimit-remaining'), reset: res.headers.get('x-ratelimit-reset'), retryAfter: res.headers.get('retry-after') };
}

/** The answer carries the three headers: the limit given, what remains, and a reset in unix seconds within the window. */
function expectRateLimitHeaders(res: JsonResponse | Response, limit: number, windowSeconds: number, what: string): void {
  const headers = rateLimitHeaders(res);
  expect(headers.limit, what).to.equal(String(limit));
  expect(headers.remaining, what).to.match(/^\d+$/);
  expect(Number(headers.remaining), what).to.be.at.most(limit);
  expect(headers.reset, what).to.match(/^\d{10}$/);
  const now = Date.now() / 1000;
  expect(Number(headers.reset), what).to.be.within(Math.floor(now), Math.ceil(now) + windowSeconds + 1);
}

describe('rate limits (per client and endpoint class, X-RateLimit headers, 429)', function () {
  this.timeout(90_000);

  describe('in memory, with small limits', () => {
    let server: ServerProcess;
    let dataDir: string;
    const keys: string[] = [];
    let nextKey = 0;
    /** A key nobody has used yet: its own budget in every class. */
    const freshKey = () => keys[nextKey++]!;

    before(async () => {
      dataDir = makeDataDir();
      for (let i = 0; i < 6; i++) keys.push(await createKey(SCOPES, { BLOCKYARD_DATA_DIR: dataDir }));
      server = await startServerProcess(LIMITS, dataDir);
    });
    after(async () => {
      await server?.stop();
      if (dataDir) removeDataDir(dataDir);
    });

    it('says which limits it applies in its start log line', () => {
      const line = server.logs.find((l) => l.msg === 'blockyard listening');
      expect(line?.rateLimits).to.equal(`${process.env.BLOCKYARD_QUEUE === 'bullmq' ? 'redis' : 'memory'}: oauth 3/min; execute 2/min,3/h; read 5/min; write 2/3s`);
    });

    it('sets X-RateLimit-Limit, -Remaining and -Reset (unix seconds) on every answer, errors included', async () => {
      const key = freshKey();
      const answers: Array<[string, JsonResponse | Response, number, number]> = [];
      const ok = await request(server.url, 'GET', '/api/v1/blocks', { key });
      expect(ok.status).to.equal(200);
      answers.push(['200 read', ok, 5, 60]);
      const missing = await request(server.url, 'GET', '/api/v1/executions/no-such-execution', { key });
      expect(missing.status).to.equal(404);
      answers.push(['404 read', missing, 5, 60]);
      const invalid = await request(server.url, 'POST', '/api/v1/blocks/example.echo/execute', { key, body: { inputs: 'not an object' } });
      expect(invalid.status).to.equal(422);
      answers.push(['422 execute', invalid, 2, 60]);
      const unauthenticated = await request(server.url, 'GET', '/api/v1/blocks', { key: 'byk_not_a_key' });
      expect(unauthenticated.status).to.equal(401);
      answers.push(['401 read', unauthenticated, 5, 60]);
      const unknown = await request(server.url, 'DELETE', '/api/v1/no-such-thing', { key });
      expect([404, 405]).to.include(unknown.status);
      answers.push(['unknown path write', unknown, 2, 3]);
      const token = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=x&client_id=no-such-app' });
      expect(token.status).to.be.within(400, 401);
      answers.push(['OAuth token error', token, 3, 60]);
      for (const [what, res, limit, window] of answers) expectRateLimitHeaders(res, limit, window, what);
      // The reads of one key count down together.
      expect([ok, missing].map((r) => r.headers.get('x-ratelimit-remaining'))).to.deep.equal(['4', '3']);
    });

    it('answers 429 { detail } with Retry-After once a key has used its reads, while another key has its own budget', async () => {
      const key = freshKey();
      const remaining: Array<string | null> = [];
      for (let i = 0; i < 5; i++) {
        const res = await request(server.url, 'GET', '/api/v1/blocks', { key });
        expect(res.status).to.equal(200);
        remaining.push(res.headers.get('x-ratelimit-remaining'));
      }
      expect(remaining).to.deep.equal(['4', '3', '2', '1', '0']);
      const refused = await request(server.url, 'GET', '/api/v1/blocks', { key });
      expect(refused.status).to.equal(429);
      expect(Object.keys(refused.body)).to.deep.equal(['detail']);
      expect(refused.body.detail).to.match(/^rate limit exceeded: 5 read requests per minute; retry in \d+ s$/);
      expect(refused.headers.get('retry-after')).to.match(/^\d+$/);
      expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
      expectRateLimitHeaders(refused, 5, 60, '429');
      expect(refused.headers.get('x-ratelimit-remaining')).to.equal('0');

      const other = await request(server.url, 'GET', '/api/v1/blocks', { key: freshKey() });
      expect([other.status, other.headers.get('x-ratelimit-remaining')]).to.deep.equal([200, '4']);
      // Executions are another class: the first key may still start one.
      const execute = await request(server.url, 'POST', '/api/v1/blocks/example.echo/execute', { key, body: { inputs: { text: 'still allowed' } } });
      expect(execute.status).to.equal(202);
    });

    it('limits executions to 2 a minute per key, telling the tighter of the minute and hour rules', async () => {
      const key = freshKey();
      const execute = () => request(server.url, 'POST', '/api/v1/blocks/example.echo/execute', { key, body: { inputs: { text: 'hi' } } });
      const first = await execute();
      const second = await execute();
      expect([first.status, second.status]).to.deep.equal([202, 202]);
      expect([rateLimitHeaders(first).remaining, rateLimitHeaders(second).remaining]).to.deep.equal(['1', '0']);
      const refused = await execute();
      expect(refused.status).to.equal(429);
      expect(refused.body.detail).to.match(/^rate limit exceeded: 2 execute requests per minute/);
      expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
    });

    it('starts over when the window has passed (writes: 2 per 3 s)', async () => {
      const key = freshKey();
      const cancel = () => request(server.url, 'POST', '/api/v1/executions/no-such-execution/cancel', { key });
      const before = [await cancel(), await cancel()];
      expect(before.map((r) => r.status)).to.deep.equal([404, 404]);
      const refused = await cancel();
      expect(refused.status).to.equal(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).to.be.within(1, 3);
      // Wait past the reset the headers announced, then the key has its full budget again.
      const resetAt = Number(refused.headers.get('x-ratelimit-reset')) * 1000;
      await sleep(Math.max(0, resetAt - Date.now()) + 100);
      const after = await cancel();
      expect(after.status).to.equal(404);
      expect(after.headers.get('x-ratelimit-remaining')).to.equal('1');
    });

  });

  describe('the oauth class, in memory (a server of its own: every oauth request of the IP shares one budget)', () => {
    let server: ServerProcess;
    let dataDir: string;
    before(async () => {
      dataDir = makeDataDir();
      server = await startServerProcess(LIMITS, dataDir);
    });
    after(async () => {
      await server?.stop();
      if (dataDir) removeDataDir(dataDir);
    });

    it('limits OAuth endpoints per IP alone (a made-up client_id gets no fresh budget), answering 429 the OAuth way with Retry-After', async () => {
      const basic = (clientId: string) => `Basic ${Buffer.from(`${clientId}:wrong-secret`).toString('base64')}`;
      // Each request names another client_id, in the query string and in HTTP Basic.
      const token = (clientId: string) =>
        fetch(`${server.url}/oauth/token?client_id=${clientId}`, { method: 'POST', headers: { authorization: basic(clientId), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=x' });
      const answers: Response[] = [];
      for (let i = 0; i < 6; i++) answers.push(await token(`app-${randomBytes(6).toString('hex')}`));
      expect(answers.slice(0, 3).every((r) => r.status === 400 || r.status === 401), answers.map((r) => r.status).join(' ')).to.equal(true);
      expect(answers.slice(0, 3).map((r) => r.headers.get('x-ratelimit-remaining'))).to.deep.equal(['2', '1', '0']);
      expect(answers.slice(3).map((r) => r.status)).to.deep.equal([429, 429, 429]);
      const refused = answers[3]!;
      expect(await refused.json()).to.deep.equal({ error: 'too_many_requests', error_description: `rate limit exceeded: 3 oauth requests per minute; retry in ${refused.headers.get('retry-after')} s` });
      expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
      expectRateLimitHeaders(refused, 3, 60, 'refused oauth request');
    });
  });

  describe('BLOCKYARD_RATE_LIMITS=off', () => {
    let server: ServerProcess;
    let dataDir: string;
    let key: string;
    before(async () => {
      dataDir = makeDataDir();
      key = await createKey(SCOPES, { BLOCKYARD_DATA_DIR: dataDir });
      server = await startServerProcess({ ...LIMITS, BLOCKYARD_RATE_LIMITS: 'off', BLOCKYARD_RATE_LIMIT_READ: '1/min' }, dataDir);
    });
    after(async () => {
      await server?.stop();
      if (dataDir) removeDataDir(dataDir);
    });

    it('never answers 429 and sends no X-RateLimit headers', async () => {
      const answers = await Promise.all(Array.from({ length: 12 }, () => request(server.url, 'GET', '/api/v1/blocks', { key })));
      expect(answers.map((r) => r.status)).to.deep.equal(Array(12).fill(200));
      expect(answers.every((r) => r.headers.get('x-ratelimit-limit') === null && r.headers.get('retry-after') === null)).to.equal(true);
      expect(server.logs.find((l) => l.msg === 'blockyard listening')?.rateLimits).to.equal('off');
    });
  });

  describe('on Redis, shared by two API processes', () => {
    let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
    let dataDir: string;
    let queueName: string;
    let key: string;
    const servers: ServerProcess[] = [];

    before(async () => {
      database = await createPostgresDatabase();
      dataDir = makeDataDir();
      queueName = `rate-limit-e2e-${randomBytes(5).toString('hex')}`;
      const env = {
        ...LIMITS,
        BLOCKYARD_DATABASE_URL: database.url,
        BLOCKYARD_QUEUE: 'bullmq',
        BLOCKYARD_REDIS_URL: REDIS_URL,
        BLOCKYARD_QUEUE_NAME: queueName,
        BLOCKYARD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        BLOCKYARD_DATA_DIR: dataDir,
      };
      key = await createKey(SCOPES, env);
      servers.push(await startServerProcess({ ...env, BLOCKYARD_ROLE: 'api' }, dataDir));
      servers.push(await startServerProcess({ ...env, BLOCKYARD_ROLE: 'api' }, dataDir));
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await database?.drop();
      if (dataDir) removeDataDir(dataDir);
      if (queueName) {
        const redis = new Redis(REDIS_URL);
        try {
          const left = [...(await redis.keys(`blockyard:${queueName}:*`)), ...(await redis.keys(`blockyard:rate-limit:${queueName}:*`))];
          if (left.length) await redis.del(...left);
        } finally {
          redis.disconnect();
        }
      }
    });

    it('counts a key’s requests to either process against one budget (BLOCKYARD_RATE_LIMIT_STORE defaults to redis with bullmq)', async () => {
      const [a, b] = servers as [ServerProcess, ServerProcess];
      expect(a.logs.find((l) => l.msg === 'blockyard listening')?.rateLimits).to.match(/^redis: /);
      const answers: JsonResponse[] = [];
      for (const server of [a, b, a, b, a]) answers.push(await request(server.url, 'GET', '/api/v1/blocks', { key }));
      expect(answers.map((r) => [r.status, r.headers.get('x-ratelimit-remaining')])).to.deep.equal([
        [200, '4'],
        [200, '3'],
        [200, '2'],
        [200, '1'],
        [200, '0'],
      ]);
      const refused = await Promise.all([request(b.url, 'GET', '/api/v1/blocks', { key }), request(a.url, 'GET', '/api/v1/blocks', { key })]);
      expect(refused.map((r) => r.status)).to.deep.equal([429, 429]);
      const redis = new Redis(REDIS_URL);
      try {
        expect(await redis.keys(`blockyard:rate-limit:${queueName}:*`)).to.have.length(1);
      } finally {
        redis.disconnect();
      }
    });
  });
});
