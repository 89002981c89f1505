import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ContractValidators } from '@blockyard/contracts';
import {
  API_KEY_SCOPES,
  PluginCatalog,
  silentLogger,
  UnauthorizedError,
  type AccessTokenVerifier,
  type ApiKeyService,
  type BlockCatalog,
  type ClientWebhookService,
  type ExecutionService,
  type OAuthClient,
  type OAuthClientService,
  type Principal,
  type SessionService,
} from '@blockyard/core';
import { createHttpApp } from '../http-app.js';
import { missingApiKeyScopes } from './owner-auth.js';

const readBlockKey: Principal = { userId: 'u1', scopes: new Set(['READ_BLOCK']), via: 'api-key:k-read' };
const allButOneKey: Principal = { userId: 'u1', scopes: new Set(API_KEY_SCOPES.filter((s) => s !== 'DELETE_INTEGRATIONS')), via: 'api-key:k-almost' };
const fullKey: Principal = { userId: 'u1', scopes: new Set(API_KEY_SCOPES), via: 'api-key:k-full' };
/** An app's access token holding every scope: still not the user acting for themselves. */
const appToken: Principal = { userId: 'u1', scopes: new Set(API_KEY_SCOPES), via: 'oauth:app_other', clientId: 'app_other' };

const apiKeys = {
  authenticate: async (secret?: string) => {
    if (secret === 'byk_read') return readBlockKey;
    if (secret === 'byk_almost') return allButOneKey;
    if (secret === 'byk_full') return fullKey;
    throw new UnauthorizedError('invalid API key');
  },
} as unknown as ApiKeyService;
const bearer: AccessTokenVerifier = { verify: async (token: string) => (token === 'app-token' ? appToken : null) };
const sessions = {
  resolve: async (id?: string) => (id === 'good-session' ? { session: { id: 's1' }, user: { id: 'u1', email: 'ann@example.org', name: 'Ann' } } : null),
} as unknown as SessionService;

const NOW = new Date('2026-05-01T12:00:00.000Z');
const client: OAuthClient = {
  id: 'app_trusted',
  userId: 'u1',
  name: 'Trusted',
  description: '',
  type: 'confidential',
  secretHash: 'x',
  redirectUris: ['https://trusted.example/cb'],
  webhookDomains: [],
  webhookSecret: {} as OAuthClient['webhookSecret'],
  createdAt: NOW,
  updatedAt: NOW,
  disabledAt: null,
};

/** The real app; the client service records what reached it. */
async function serve() {
  const calls: string[] = [];
  const oauthClients = {
    register: async () => (calls.push('register'), { client, clientSecret: 'secret_x', webhookSecret: 'whsec_x' }),
    list: async () => (calls.push('list'), [client]),
    get: async () => (calls.push('get'), client),
    update: async () => (calls.push('update'), client),
    delete: async () => void calls.push('delete'),
    rotateSecret: async () => (calls.push('rotateSecret'), { client, clientSecret: `secret_${'a'.repeat(43)}` }),
  } as unknown as OAuthClientService;
  const clientWebhooks = {
    listDeliveries: async () => (calls.push('listDeliveries'), { deliveries: [], nextBefore: null }),
    maxAttempts: 5,
  } as unknown as ClientWebhookService;
  const app = createHttpApp({
    catalog: { listBlocks: () => [] } as unknown as BlockCatalog,
    plugins: new PluginCatalog(),
    executions: {} as unknown as ExecutionService,
    apiKeys,
    bearer,
    sessions,
    oauthClients,
    clientWebhooks,
    credentials: null,
    validators: new ContractValidators(),
    logger: silentLogger,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Every client-management route, with a body it accepts. */
const ROUTES: Array<{ method: string; path: string; body?: unknown; ok: number }> = [
  { method: 'POST', path: '/oauth/clients/', body: { name: 'New', redirect_uris: ['https://new.example/cb'] }, ok: 201 },
  { method: 'GET', path: '/oauth/clients/', ok: 200 },
  { method: 'GET', path: '/oauth/clients/app_trusted', ok: 200 },
  { method: 'PATCH', path: '/oauth/clients/app_trusted', body: { redirect_uris: ['https://evil.example/cb'], webhook_domains: ['evil.example'] }, ok: 200 },
  { method: 'POST', path: '/oauth/clients/app_trusted/rotate-secret', body: {}, ok: 200 },
  { method: 'DELETE', path: '/oauth/clients/app_trusted', ok: 204 },
  { method: 'GET', path: '/oauth/clients/app_trusted/webhook-deliveries', ok: 200 },
];

async function call(base: string, route: (typeof ROUTES)[number], headers: Record<string, string>) {
  const res = await fetch(`${base}${route.path}`, {
    method: route.method,
    headers: { ...headers, ...(route.body ? { 'content-type': 'application/json' } : {}) },
    body: route.body ? JSON.stringify(route.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('ownerAuth: who may manage OAuth clients', () => {
  it('missingApiKeyScopes names the API key scopes a principal lacks, none for a full-access key', () => {
    expect(missingApiKeyScopes(fullKey)).to.deep.equal([]);
    expect(missingApiKeyScopes(allButOneKey)).to.deep.equal(['DELETE_INTEGRATIONS']);
    expect(missingApiKeyScopes(readBlockKey)).to.deep.equal(API_KEY_SCOPES.filter((s) => s !== 'READ_BLOCK'));
  });

  it('refuses an API key without every scope on every client route (403 naming what it lacks), reaching no service', async () => {
    const { base, calls, close } = await serve();
    try {
      for (const route of ROUTES) {
        for (const headers of [{ 'x-api-key': 'byk_read' }, { authorization: 'Bearer byk_read' }] as Array<Record<string, string>>) {
          const res = await call(base, route, headers);
          expect(res.status, `${route.method} ${route.path}`).to.equal(403);
          expect(res.body.detail).to.contain('full-access API key');
          expect(res.body.detail).to.contain('RUN_AGENT');
          expect(res.body.detail).to.not.contain('READ_BLOCK,');
        }
        const almost = await call(base, route, { 'x-api-key': 'byk_almost' });
        expect(almost.status, `${route.method} ${route.path}`).to.equal(403);
        expect(almost.body.detail).to.match(/lacks DELETE_INTEGRATIONS$/);
      }
      expect(calls).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  it("refuses an app's access token (403), even one holding every scope", async () => {
    const { base, calls, close } = await serve();
    try {
      for (const route of ROUTES) {
        const res = await call(base, route, { authorization: 'Bearer app-token' });
        expect(res.status, `${route.method} ${route.path}`).to.equal(403);
        expect(res.body.detail).to.contain("not an app's access token");
      }
      expect(calls).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  it('lets a full-access key manage clients (X-API-Key or Bearer byk_...)', async () => {
    const { base, calls, close } = await serve();
    try {
      for (const route of ROUTES) {
        for (const headers of [{ 'x-api-key': 'byk_full' }, { authorization: 'Bearer byk_full' }] as Array<Record<string, string>>) {
          const res = await call(base, route, headers);
          expect(res.status, `${route.method} ${route.path}: ${JSON.stringify(res.body)}`).to.equal(route.ok);
        }
      }
      expect(calls).to.include.members(['register', 'list', 'get', 'update', 'rotateSecret', 'delete', 'listDeliveries']);
    } finally {
      await close();
    }
  });

  it('leaves the signed-in session as it was: allowed from our origin, refused cross-site (403)', async () => {
    const { base, close } = await serve();
    try {
      const patch = ROUTES.find((r) => r.method === 'PATCH')!;
      expect((await call(base, patch, { cookie: 'blockyard_session=good-session', origin: base })).status).to.equal(200);
      expect((await call(base, patch, { cookie: 'blockyard_session=good-session' })).status).to.equal(200);
      const crossSite = await call(base, patch, { cookie: 'blockyard_session=good-session', origin: 'https://evil.example' });
      expect(crossSite.status).to.equal(403);
      expect(crossSite.body.detail).to.contain('cross-site');
      expect((await call(base, patch, { cookie: 'blockyard_session=stale' })).status).to.equal(401);
    } finally {
      await close();
    }
  });
});
