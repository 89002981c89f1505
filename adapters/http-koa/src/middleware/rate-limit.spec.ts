import { expect } from 'chai';
import Koa from 'koa';
import Router from '@koa/router';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ContractValidators } from '@blockyard/contracts';
import { currentWindow, DEFAULT_RATE_LIMIT_POLICY, NotFoundError, PluginCatalog, rateLimitDecision, UnauthorizedError, type AccessTokenVerifier, type ApiKeyService, type BlockCatalog, type ExecutionService, type Logger, type Principal, type RateLimitDecision, type RateLimiter, type RateLimitPolicy, type RateLimitRule, type RateLimitWindow } from '@blockyard/core';
import { createHttpApp } from '../http-app.js';
import { apiKeyAuth } from './api-key-auth.js';
import { errorMapper } from './error-mapper.js';
import { endpointClassOf, rateLimit, rateLimited, rateLimitIdentity, type HttpRateLimits } from './rate-limit.js';

/**
 * A limiter that records the keys it is asked about and counts as the memory adapter does
 * (with core's window rules, so decisions are the real ones). Adapters are not imported here:
 * each stands alone (the contract suite covers them).
 */
class RateLimiterMock implements RateLimiter {
  readonly keys: string[] = [];
  readonly #windows = new Map<string, RateLimitWindow>();
  failing = false;
  async consume(key: string, rules: readonly RateLimitRule[], now: number): Promise<RateLimitDecision> {
    this.keys.push(key);
    if (this.failing) throw new Error('connection refused to 10.0.0.9:6379');
    const windows = rules.map((rule) => currentWindow(this.#windows.get(`${rule.windowMs} ${key}`), rule, now));
    const allowed = rules.every((rule, i) => windows[i]!.count < rule.limit);
    if (!allowed) return rateLimitDecision(rules, windows, false, now);
    const counted = windows.map((w) => ({ start: w.start, count: w.count + 1 }));
    rules.forEach((rule, i) => this.#windows.set(`${rule.windowMs} ${key}`, counted[i]!));
    return rateLimitDecision(rules, counted, true, now);
  }
}

const NOW = Date.parse('2026-05-01T12:00:00.000Z');
const policy: RateLimitPolicy = {
  oauth: [{ limit: 2, windowMs: 60_000 }],
  execute: [
    { limit: 2, windowMs: 60_000 },
    { limit: 3, windowMs: 3_600_000 },
  ],
  read: [{ limit: 3, windowMs: 60_000 }],
  write: [],
};

const keyPrincipal: Principal = { userId: 'u1', scopes: new Set(['READ_BLOCK', 'EXECUTE_BLOCK', 'READ_RUN', 'WRITE_RUN']), via: 'api-key:k1' };
const otherKeyPrincipal: Principal = { ...keyPrincipal, via: 'api-key:k2' };
const appPrincipal: Principal = { userId: 'u1', scopes: new Set(['READ_BLOCK']), via: 'oauth:app-1', clientId: 'app-1' };
const apiKeysMock = {
  authenticate: async (secret?: string) => {
    if (secret === 'byk_good') return keyPrincipal;
    if (secret === 'byk_other') return otherKeyPrincipal;
    throw new UnauthorizedError('invalid API key');
  },
} as unknown as ApiKeyService;
const bearerMock: AccessTokenVerifier = { verify: async (token: string) => (token === 'app-token' ? appPrincipal : null) };

interface LogEntry {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}
function loggerFixture(entries: LogEntry[]): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void entries.push({ level, message, fields });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

async function listen(app: Koa) {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The real app with rate limits on, limiter and clock under the test's control. */
async function serve(options: { limiter?: RateLimiterMock; logs?: LogEntry[]; executeCalls?: { n: number }; policy?: RateLimitPolicy } = {}) {
  const limiter = options.limiter ?? new RateLimiterMock();
  const executeCalls = options.executeCalls ?? { n: 0 };
  const app = createHttpApp({
    catalog: { listBlocks: () => [] } as unknown as BlockCatalog,
    plugins: new PluginCatalog(),
    executions: {
      executeBlock: async () => {
        executeCalls.n++;
        throw new NotFoundError('no block nope');
      },
    } as unknown as ExecutionService,
    apiKeys: apiKeysMock,
    bearer: bearerMock,
    credentials: null,
    validators: new ContractValidators(),
    logger: loggerFixture(options.logs ?? []),
    rateLimits: { limiter, policy: options.policy ?? policy, now: () => NOW },
  });
  return { ...(await listen(app)), limiter };
}

function rateLimitHeaders(res: Response) {
  return { limit: res.headers.get('x-ratelimit-limit'), remaining: res.headers.get('x-ratelimit-remaining'), reset: res.headers.get('x-ratelimit-reset'), retryAfter: res.headers.get('retry-after') };
}

describe('rate limit middleware', () => {
  describe('endpointClassOf', () => {
    it('sorts requests into oauth, execute, read and write, leaving the rest unlimited', () => {
      const cases: Array<[string, string, string | null]> = [
        ['GET', '/oauth/authorize', 'oauth'],
        ['POST', '/oauth/token', 'oauth'],
        ['POST', '/oauth/clients/', 'oauth'],
        ['POST', '/api/v1/blocks/example.echo/execute', 'execute'],
        ['POST', '/api/v1/agents/a1/execute', 'execute'],
        ['POST', '/api/external/v1/executions/agents/a1/execute', 'execute'],
        ['GET', '/api/v1/blocks', 'read'],
        ['HEAD', '/api/v1/executions/e1', 'read'],
        ['GET', '/api/external/v1/grants/', 'read'],
        ['GET', '/external-api/v1/blocks', 'read'],
        ['GET', '/api/v1', 'read'],
        ['POST', '/api/v1/executions/e1/cancel', 'write'],
        ['DELETE', '/api/external/v1/grants/g1/credential', 'write'],
        ['PUT', '/api/v1/agents/a1', 'write'],
        ['GET', '/healthz', null],
        ['POST', '/login', null],
        ['POST', '/webhooks/github/w1', null],
        ['GET', '/.well-known/openid-configuration', null],
        ['GET', '/api/v10/blocks', null],
        ['GET', '/oauth', null],
      ];
      for (const [method, path, cls] of cases) expect(endpointClassOf(method, path), `${method} ${path}`).to.equal(cls);
    });
  });

  describe('rateLimitIdentity', () => {
    it('is the OAuth client, else the API key (or session), else the user', () => {
      expect(rateLimitIdentity(appPrincipal)).to.equal('client:app-1');
      expect(rateLimitIdentity(keyPrincipal)).to.equal('api-key:k1');
      expect(rateLimitIdentity({ userId: 'u9', scopes: new Set(), via: '' })).to.equal('user:u9');
    });
  });

  describe('rateLimit on the app', () => {
    it('sets X-RateLimit-Limit, -Remaining and -Reset (unix seconds) on each answer, counting down per API key', async () => {
      const { base, close, limiter } = await serve();
      try {
        const answers = [];
        for (let i = 0; i < 3; i++) answers.push(await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'byk_good' } }));
        expect(answers.map((r) => r.status)).to.deep.equal([200, 200, 200]);
        expect(answers.map(rateLimitHeaders)).to.deep.equal([
          { limit: '3', remaining: '2', reset: String((NOW + 60_000) / 1000), retryAfter: null },
          { limit: '3', remaining: '1', reset: String((NOW + 60_000) / 1000), retryAfter: null },
          { limit: '3', remaining: '0', reset: String((NOW + 60_000) / 1000), retryAfter: null },
        ]);
        expect(limiter.keys).to.deep.equal(['read api-key:k1', 'read api-key:k1', 'read api-key:k1']);
      } finally {
        await close();
      }
    });

    it('answers 429 { detail } with Retry-After over the limit, without running the handler', async () => {
      const executeCalls = { n: 0 };
      const { base, close } = await serve({ executeCalls });
      try {
        const execute = () => fetch(`${base}/api/v1/blocks/nope/execute`, { method: 'POST', headers: { 'x-api-key': 'byk_good', 'content-type': 'application/json' }, body: '{"inputs":{}}' });
        expect([(await execute()).status, (await execute()).status]).to.deep.equal([404, 404]);
        const refused = await execute();
        expect(refused.status).to.equal(429);
        expect(await refused.json()).to.deep.equal({ detail: 'rate limit exceeded: 2 execute requests per minute; retry in 60 s' });
        expect(rateLimitHeaders(refused)).to.deep.equal({ limit: '2', remaining: '0', reset: String((NOW + 60_000) / 1000), retryAfter: '60' });
        expect(executeCalls.n).to.equal(2);
      } finally {
        await close();
      }
    });

    it('tells the tightest of several rules: execute has 2 a minute and 3 an hour', async () => {
      const { base, close } = await serve();
      try {
        const res = await fetch(`${base}/api/v1/blocks/nope/execute`, { method: 'POST', headers: { 'x-api-key': 'byk_good', 'content-type': 'application/json' }, body: '{"inputs":{}}' });
        expect(rateLimitHeaders(res)).to.include({ limit: '2', remaining: '1' });
      } finally {
        await close();
      }
    });

    it('gives each API key, each OAuth client and each class its own budget', async () => {
      const { base, close, limiter } = await serve();
      try {
        for (let i = 0; i < 3; i++) await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'byk_good' } });
        expect((await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'byk_good' } })).status).to.equal(429);
        const other = await fetch(`${base}/api/v1/blocks`, { headers: { authorization: 'Bearer byk_other' } });
        expect([other.status, other.headers.get('x-ratelimit-remaining')]).to.deep.equal([200, '2']);
        const app = await fetch(`${base}/api/v1/blocks`, { headers: { authorization: 'Bearer app-token' } });
        expect([app.status, app.headers.get('x-ratelimit-remaining')]).to.deep.equal([200, '2']);
        const execute = await fetch(`${base}/api/v1/blocks/nope/execute`, { method: 'POST', headers: { 'x-api-key': 'byk_good', 'content-type': 'application/json' }, body: '{"inputs":{}}' });
        expect(execute.status).to.equal(404);
        expect(limiter.keys.slice(4)).to.deep.equal(['read api-key:k2', 'read client:app-1', 'execute api-key:k1']);
      } finally {
        await close();
      }
    });

    it('counts requests with bad credentials, without credentials and to unknown paths against the IP, with headers', async () => {
      const { base, close, limiter } = await serve();
      try {
        const bad = await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'byk_bad' } });
        const none = await fetch(`${base}/api/v1/blocks`);
        const unknown = await fetch(`${base}/api/v1/nothing-here`, { headers: { 'x-api-key': 'byk_good' } });
        expect([bad.status, none.status, unknown.status]).to.deep.equal([401, 401, 404]);
        expect([bad, none, unknown].map((r) => r.headers.get('x-ratelimit-remaining'))).to.deep.equal(['2', '1', '0']);
        expect(limiter.keys).to.deep.equal(['read ip:127.0.0.1', 'read ip:127.0.0.1', 'read ip:127.0.0.1']);
        const refused = await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'byk_bad' } });
        expect(refused.status).to.equal(429);
        expect(await refused.json()).to.have.property('detail').that.matches(/^rate limit exceeded: 3 read requests per minute/);
        expect(refused.headers.get('retry-after')).to.equal('60');
        // The valid key still has its own budget.
        expect((await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'byk_good' } })).status).to.equal(200);
      } finally {
        await close();
      }
    });

    it('limits OAuth endpoints by IP alone, whatever client_id they name, answering 429 the OAuth way on protocol endpoints', async () => {
      const { base, close, limiter } = await serve();
      try {
        const authorize = (clientId: string) => fetch(`${base}/oauth/authorize?client_id=${clientId}&response_type=code`, { redirect: 'manual' });
        expect(rateLimitHeaders(await authorize('app-1'))).to.include({ limit: '2', remaining: '1' });
        await authorize('app-2');
        const refused = await authorize('app-3');
        expect(refused.status).to.equal(429);
        expect(await refused.json()).to.deep.equal({ error: 'too_many_requests', error_description: 'rate limit exceeded: 2 oauth requests per minute; retry in 60 s' });
        expect(refused.headers.get('retry-after')).to.equal('60');
        const basic = Buffer.from('app%204:secret').toString('base64');
        const token = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { authorization: `Basic ${basic}` } });
        expect(token.status).to.equal(429);
        const clientsRefused = await fetch(`${base}/oauth/clients/?client_id=app-5`);
        expect(clientsRefused.status).to.equal(429);
        expect(await clientsRefused.json()).to.have.property('detail');
        expect(limiter.keys).to.deep.equal(Array(5).fill('oauth ip:127.0.0.1'));
      } finally {
        await close();
      }
    });

    it('gives a made-up client_id no fresh budget: 6 oauth requests at a limit of 3, each naming another client_id, the 4th is 429', async () => {
      const { base, close } = await serve({ policy: { ...policy, oauth: [{ limit: 3, windowMs: 60_000 }] } });
      try {
        const statuses: number[] = [];
        const remaining: Array<string | null> = [];
        for (let i = 0; i < 6; i++) {
          const res = await fetch(`${base}/oauth/token?client_id=random-${i}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `client_id=random-${i}&grant_type=authorization_code` });
          statuses.push(res.status);
          remaining.push(res.headers.get('x-ratelimit-remaining'));
          if (res.status === 429) expect(res.headers.get('retry-after')).to.equal('60');
        }
        expect(statuses.slice(3)).to.deep.equal([429, 429, 429]);
        expect(statuses.slice(0, 3)).to.not.include(429);
        expect(remaining).to.deep.equal(['2', '1', '0', '0', '0', '0']);
      } finally {
        await close();
      }
    });

    it('leaves health, pages and classes without rules alone: no headers, nothing counted', async () => {
      const { base, close, limiter } = await serve();
      try {
        const health = await fetch(`${base}/healthz`);
        const write = await fetch(`${base}/api/v1/executions/e1/cancel`, { method: 'POST', headers: { 'x-api-key': 'byk_good' } });
        for (const res of [health, write]) expect(rateLimitHeaders(res)).to.deep.equal({ limit: null, remaining: null, reset: null, retryAfter: null });
        expect(limiter.keys).to.deep.equal([]);
      } finally {
        await close();
      }
    });

    it('lets requests through unlimited when the limiter fails, warning once', async () => {
      const logs: LogEntry[] = [];
      const limiter = new RateLimiterMock();
      limiter.failing = true;
      const { base, close } = await serve({ limiter, logs });
      try {
        const answers = await Promise.all([1, 2, 3, 4].map(() => fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'byk_good' } })));
        expect(answers.map((r) => [r.status, r.headers.get('x-ratelimit-limit')])).to.deep.equal([
          [200, null],
          [200, null],
          [200, null],
          [200, null],
        ]);
        const warnings = logs.filter((l) => l.level === 'warn');
        expect(warnings).to.have.length(1);
        expect(warnings[0]!.message).to.equal('rate limiter unavailable: requests go through unlimited');
      } finally {
        await close();
      }
    });

    it('is off without rate limits in the deps', async () => {
      const app = createHttpApp({ catalog: { listBlocks: () => [] } as unknown as BlockCatalog, plugins: new PluginCatalog(), executions: {} as ExecutionService, apiKeys: apiKeysMock, credentials: null, validators: new ContractValidators(), logger: loggerFixture([]) });
      const { base, close } = await listen(app);
      try {
        const res = await fetch(`${base}/api/v1/blocks`, { headers: { 'x-api-key': 'byk_good' } });
        expect([res.status, res.headers.get('x-ratelimit-limit')]).to.deep.equal([200, null]);
      } finally {
        await close();
      }
    });
  });

  describe('rateLimited on a route', () => {
    /** A router as the external API would have: its own authentication, then the class it declares. */
    async function serveDeclared(limits: HttpRateLimits) {
      const app = new Koa();
      app.use(errorMapper(loggerFixture([])));
      app.use(rateLimit(limits));
      const router = new Router();
      router.use('/api/external/v1', apiKeyAuth(apiKeysMock, bearerMock));
      router.post('/api/external/v1/runs', rateLimited('execute'), (ctx) => {
        ctx.status = 202;
        ctx.body = { ok: true };
      });
      router.get('/api/external/v1/things', rateLimited(), (ctx) => {
        ctx.body = { things: [] };
      });
      app.use(router.routes());
      return listen(app);
    }

    it('counts against the class the route declares, for the authenticated client', async () => {
      const limiter = new RateLimiterMock();
      const { base, close } = await serveDeclared({ limiter, policy, now: () => NOW });
      try {
        const run = () => fetch(`${base}/api/external/v1/runs`, { method: 'POST', headers: { authorization: 'Bearer app-token' } });
        expect([(await run()).status, (await run()).status]).to.deep.equal([202, 202]);
        const refused = await run();
        expect(refused.status).to.equal(429);
        expect(await refused.json()).to.deep.equal({ detail: 'rate limit exceeded: 2 execute requests per minute; retry in 60 s' });
        expect(refused.headers.get('retry-after')).to.equal('60');
        const things = await fetch(`${base}/api/external/v1/things`, { headers: { authorization: 'Bearer app-token' } });
        expect([things.status, things.headers.get('x-ratelimit-limit')]).to.deep.equal([200, '3']);
        expect(limiter.keys).to.deep.equal(['execute client:app-1', 'execute client:app-1', 'execute client:app-1', 'read client:app-1']);
      } finally {
        await close();
      }
    });

    it('does nothing when the app has no rate limits', async () => {
      const app = new Koa();
      const router = new Router();
      router.get('/x', rateLimited('read'), (ctx) => {
        ctx.body = { ok: true };
      });
      app.use(router.routes());
      const { base, close } = await listen(app);
      try {
        const res = await fetch(`${base}/x`);
        expect([res.status, res.headers.get('x-ratelimit-limit')]).to.deep.equal([200, null]);
      } finally {
        await close();
      }
    });
  });

  describe('DEFAULT_RATE_LIMIT_POLICY', () => {
    it('is the guide’s: OAuth 30 a minute, execute 10 a minute and 100 an hour, reads 60 a minute and 1000 an hour', () => {
      expect(DEFAULT_RATE_LIMIT_POLICY).to.deep.equal({
        oauth: [{ limit: 30, windowMs: 60_000 }],
        execute: [
          { limit: 10, windowMs: 60_000 },
          { limit: 100, windowMs: 3_600_000 },
        ],
        read: [
          { limit: 60, windowMs: 60_000 },
          { limit: 1000, windowMs: 3_600_000 },
        ],
        write: [
          { limit: 30, windowMs: 60_000 },
          { limit: 500, windowMs: 3_600_000 },
        ],
      });
    });
  });
});
