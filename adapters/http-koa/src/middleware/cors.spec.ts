import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ContractValidators } from '@blockyard/contracts';
import { currentWindow, PluginCatalog, rateLimitDecision, UnauthorizedError, type AccessTokenVerifier, type ApiKeyService, type BlockCatalog, type ExecutionService, type Logger, type OAuthClientService, type Principal, type RateLimitDecision, type RateLimiter, type RateLimitRule, type RateLimitWindow } from '@blockyard/core';
import { createHttpApp } from '../http-app.js';
import { CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS } from './cors.js';

const APP_ORIGIN = 'https://app.example.com';
const keyPrincipal: Principal = { userId: 'u1', scopes: new Set(['READ_BLOCK']), via: 'api-key:k1' };
const appPrincipal: Principal = { userId: 'u1', scopes: new Set(['READ_BLOCK']), via: 'oauth:app_1', clientId: 'app_1' };
const apiKeysMock = {
  authenticate: async (secret?: string) => {
    if (secret === 'byk_good') return keyPrincipal;
    throw new UnauthorizedError('invalid API key');
  },
} as unknown as ApiKeyService;
const bearerMock: AccessTokenVerifier = { verify: async (token: string) => (token === 'app-token' ? appPrincipal : null) };
/** app_1's redirect URIs are on APP_ORIGIN. */
const oauthClientsMock = { allowsOrigin: async (clientId: string, origin: string) => clientId === 'app_1' && origin === APP_ORIGIN } as unknown as OAuthClientService;
const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => silent };

/** Counts like the memory limiter, with core's window rules. */
class RateLimiterMock implements RateLimiter {
  readonly #windows = new Map<string, RateLimitWindow>();
  async consume(key: string, rules: readonly RateLimitRule[], now: number): Promise<RateLimitDecision> {
    const windows = rules.map((rule) => currentWindow(this.#windows.get(`${rule.windowMs} ${key}`), rule, now));
    const allowed = rules.every((rule, i) => windows[i]!.count < rule.limit);
    if (!allowed) return rateLimitDecision(rules, windows, false, now);
    const counted = windows.map((w) => ({ start: w.start, count: w.count + 1 }));
    rules.forEach((rule, i) => this.#windows.set(`${rule.windowMs} ${key}`, counted[i]!));
    return rateLimitDecision(rules, counted, true, now);
  }
}

async function serve() {
  const app = createHttpApp({
    catalog: { listBlocks: () => [] } as unknown as BlockCatalog,
    plugins: new PluginCatalog(),
    executions: {} as ExecutionService,
    apiKeys: apiKeysMock,
    bearer: bearerMock,
    oauthClients: oauthClientsMock,
    credentials: null,
    validators: new ContractValidators(),
    logger: silent,
    rateLimits: { limiter: new RateLimiterMock(), policy: { oauth: [], execute: [], read: [{ limit: 2, windowMs: 60_000 }], write: [] } },
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('bearerApiCors (CORS on the bearer-token APIs)', () => {
  let base: string;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ base, close } = await serve());
  });
  afterEach(() => close());

  const preflight = (path: string, origin = 'https://anyone.example') =>
    fetch(`${base}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key' } });

  it('answers a preflight on /api/external/v1 and /external-api/v1 with 204, the Origin, methods, headers and Max-Age, without credentials', async () => {
    for (const path of ['/api/external/v1/executions/agents/a1/execute', '/external-api/v1/blocks']) {
      const res = await preflight(path);
      expect(res.status, path).to.equal(204);
      expect(res.headers.get('access-control-allow-origin')).to.equal('https://anyone.example');
      expect(res.headers.get('access-control-allow-methods')).to.contain('POST').and.contain('GET').and.contain('DELETE');
      expect(res.headers.get('access-control-allow-headers')).to.equal(CORS_ALLOW_HEADERS);
      for (const header of ['Authorization', 'Content-Type', 'Idempotency-Key']) expect(res.headers.get('access-control-allow-headers')).to.contain(header);
      expect(res.headers.get('access-control-max-age')).to.equal(String(CORS_MAX_AGE_SECONDS));
      expect(res.headers.get('access-control-allow-credentials')).to.equal(null);
      expect(res.headers.get('vary')).to.match(/origin/i);
    }
  });

  it("lets the app's own origin read an answer (rate-limit headers exposed), with Vary: Origin and no credentials", async () => {
    const res = await fetch(`${base}/external-api/v1/blocks`, { headers: { authorization: 'Bearer app-token', origin: APP_ORIGIN } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('access-control-allow-origin')).to.equal(APP_ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).to.equal(null);
    expect(res.headers.get('vary')).to.match(/origin/i);
    expect(res.headers.get('x-ratelimit-remaining')).to.equal('1');
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(/,\s*/).map((h) => h.toLowerCase());
    expect(exposed).to.include.members(['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after']);
  });

  it('lets the app read its error answers too: a 429 with Retry-After', async () => {
    const call = () => fetch(`${base}/external-api/v1/blocks`, { headers: { authorization: 'Bearer app-token', origin: APP_ORIGIN } });
    await call();
    await call();
    const limited = await call();
    expect(limited.status).to.equal(429);
    expect(limited.headers.get('retry-after')).to.match(/^\d+$/);
    expect(limited.headers.get('access-control-allow-origin')).to.equal(APP_ORIGIN);
    expect(limited.headers.get('access-control-expose-headers')).to.contain('Retry-After');
  });

  it("gives no CORS header to another origin, an API key, a refused token, or a request without Origin", async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['another origin', { authorization: 'Bearer app-token', origin: 'https://evil.example' }],
      ['an origin of the same host on another port', { authorization: 'Bearer app-token', origin: 'https://app.example.com:8443' }],
      ['the null origin', { authorization: 'Bearer app-token', origin: 'null' }],
      ['an API key', { 'x-api-key': 'byk_good', origin: APP_ORIGIN }],
      ['a refused token', { authorization: 'Bearer forged', origin: APP_ORIGIN }],
      ['no Origin', { authorization: 'Bearer app-token' }],
    ];
    for (const [what, headers] of cases) {
      const res = await fetch(`${base}/external-api/v1/blocks`, { headers });
      expect(res.headers.get('access-control-allow-origin'), what).to.equal(null);
      expect(res.headers.get('access-control-expose-headers'), what).to.equal(null);
      expect(res.headers.get('access-control-allow-credentials'), what).to.equal(null);
    }
  });

  it('leaves other routes alone: /api/v1 (also used with session cookies) gets no CORS, preflight or not', async () => {
    const pre = await preflight('/api/v1/blocks');
    expect(pre.headers.get('access-control-allow-origin')).to.equal(null);
    expect(pre.status).to.not.equal(204);
    const res = await fetch(`${base}/api/v1/blocks`, { headers: { authorization: 'Bearer app-token', origin: APP_ORIGIN } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('access-control-allow-origin')).to.equal(null);
    const health = await fetch(`${base}/healthz`, { headers: { origin: APP_ORIGIN } });
    expect(health.headers.get('access-control-allow-origin')).to.equal(null);
  });
});
