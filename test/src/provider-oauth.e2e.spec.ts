import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import knex from 'knex';
import { ContractValidators, type CredentialRequirement, type ProviderDefinition } from '@blockyard/contracts';
import { ApiKeyService, CredentialResolver, DomainError, ProviderRegistry, UserService } from '@blockyard/core';
import { HttpApp } from '@blockyard/http-koa';
import { composeBlockyard, readConfig, type Blockyard } from '@blockyard/server';
import { makeDataDir, removeDataDir } from './support/server-process.js';
import { request } from './support/http.js';
import { startOAuthProvider, type OAuthProviderStandIn } from './support/stand-ins/oauth-provider.js';

const validators = new ContractValidators();
const KEYS = `k1:${randomBytes(32).toString('base64')}`;

function standInProvider(url: string, revoke = true): ProviderDefinition {
  return {
    name: 'standin',
    display_name: 'Stand-in',
    auth: [{ type: 'oauth2', authorize_url: `${url}/authorize`, token_url: `${url}/token`, ...(revoke ? { revoke_url: `${url}/revoke` } : {}), pkce: true, scope_separator: ',' }],
    integration_scopes: { 'standin:repo.read': ['repo', 'read:user'], 'standin:repo.write': ['repo'] },
  };
}

/** One Blockyard "process": composed over the SQLite file in dataDir, serving HTTP on 127.0.0.1. */
interface Node {
  blockyard: Blockyard;
  url: string;
  server: Server;
  close(): Promise<void>;
}

async function startNode(dataDir: string, provider: OAuthProviderStandIn): Promise<Node> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = readConfig(
    {
      BLOCKYARD_DATA_DIR: dataDir,
      BLOCKYARD_ENCRYPTION_KEYS: KEYS,
      BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      BLOCKYARD_PUBLIC_URL: url,
      BLOCKYARD_OAUTH_STANDIN_CLIENT_ID: provider.clientId,
      BLOCKYARD_OAUTH_STANDIN_CLIENT_SECRET: provider.clientSecret,
      BLOCKYARD_OAUTH_NOREVOKE_CLIENT_ID: provider.clientId,
      BLOCKYARD_OAUTH_NOREVOKE_CLIENT_SECRET: provider.clientSecret,
    },
    dataDir,
  );
  const blockyard = await composeBlockyard(config, { loadPlugins: false });
  blockyard.container.get(ProviderRegistry).registerAll([standInProvider(provider.url)], 'oauth spec');
  server.on('request', blockyard.container.get<HttpApp>(HttpApp).callback());
  return {
    blockyard,
    url,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await blockyard.close();
    },
  };
}

const requirement: CredentialRequirement = { provider: 'standin', kinds: ['oauth2'], scopes: ['standin:repo.read'] };
const kindOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (DomainError.is(e) ? `${e.kind}: ${e.message}` : `not a domain error: ${String(e)}`));

describe('provider OAuth2 (connect, callback, refresh, revoke) against a local provider', function () {
  this.timeout(60_000);
  let provider: OAuthProviderStandIn;
  let dataDir: string;
  let node: Node;
  let userId: string;
  let key: string;
  const responses: string[] = [];

  before(async () => {
    provider = await startOAuthProvider();
    dataDir = makeDataDir();
    node = await startNode(dataDir, provider);
    const user = await node.blockyard.container.get(UserService).createUser({ email: 'oauth@example.com', name: 'OAuth User' });
    userId = user.id;
    key = (await node.blockyard.container.get(ApiKeyService).createApiKey({ userId, scopes: ['READ_INTEGRATIONS', 'MANAGE_INTEGRATIONS', 'DELETE_INTEGRATIONS'] })).secret;
  });

  after(async () => {
    await node?.close();
    await provider?.close();
    removeDataDir(dataDir);
  });

  beforeEach(() => {
    Object.assign(provider.behaviour, { expiresIn: 3600, delayMs: 0, denyAuthorization: false, rejectRefresh: false, transientFailures: 0, codeError: null, failRevoke: false });
  });

  const call = async (method: string, path: string, headers: Record<string, string> = {}, asKey: string | null = key) => {
    const res = await request(node.url, method, path, { key: asKey ?? undefined, headers });
    responses.push(typeof res.body === 'string' ? res.body : JSON.stringify(res.body));
    return res;
  };
  const credentials = async () => ((await call('GET', '/api/v1/credentials')).body as Array<{ id: string; system: boolean; status: string; expires_at: string | null }>).filter((c) => !c.system);
  const login = async (scopes?: string) => {
    const res = await call('GET', `/api/v1/integrations/standin/login${scopes ? `?scopes=${scopes}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as { login_url: string; state_expires_at: string };
  };
  /** Logs in, lets the stand-in authorize, and answers the callback path and query on our server. */
  const authorizedCallback = async (scopes?: string) => {
    const back = await provider.authorize((await login(scopes)).login_url);
    return `${back.pathname}${back.search}`;
  };
  const connect = async () => {
    const res = await call('GET', await authorizedCallback(), {}, null);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; expires_at: string };
  };
  const deleteAll = async () => {
    for (const c of await credentials()) await call('DELETE', `/api/v1/credentials/${c.id}`);
  };
  const resolve = (n: Node, credentialId: string) => n.blockyard.container.get<CredentialResolver>(CredentialResolver).resolve({ userId, requirement, credentialId });
  /** Makes the stored token expire within the refresh margin (2 minutes from now). */
  const expireSoon = async (credentialId: string) => {
    const db = knex({ client: 'sqlite3', connection: { filename: `${dataDir}/blockyard.sqlite` }, useNullAsDefault: true });
    try {
      await db('credentials').where('id', credentialId).update({ expires_at: Date.now() + 120_000 });
    } finally {
      await db.destroy();
    }
  };

  describe('GET /api/v1/integrations/:provider/login', () => {
    it('answers the authorization URL: single-use state, PKCE S256, provider scopes joined by the separator', async () => {
      const body = await login('standin:repo.read');
      expect(validators.validate('integration-login.schema.json', body).ok).to.equal(true);
      const url = new URL(body.login_url);
      expect(url.origin + url.pathname).to.equal(`${provider.url}/authorize`);
      expect(Object.fromEntries(url.searchParams)).to.include({ response_type: 'code', client_id: provider.clientId, redirect_uri: `${node.url}/api/v1/integrations/standin/callback`, scope: 'repo,read:user', code_challenge_method: 'S256' });
      expect(url.searchParams.get('state')).to.have.length.greaterThan(30);
      expect(url.searchParams.get('code_challenge')).to.match(/^[A-Za-z0-9_-]{43}$/);
      const expires = new Date(body.state_expires_at).getTime() - Date.now();
      expect(expires).to.be.within(9 * 60_000, 10 * 60_000 + 1000);
    });

    it('needs MANAGE_INTEGRATIONS, a known provider and known scopes', async () => {
      const readOnly = (await node.blockyard.container.get(ApiKeyService).createApiKey({ userId, scopes: ['READ_INTEGRATIONS'] })).secret;
      expect((await call('GET', '/api/v1/integrations/standin/login', {}, readOnly)).status).to.equal(403);
      expect((await call('GET', '/api/v1/integrations/standin/login', {}, null)).status).to.equal(401);
      expect((await call('GET', '/api/v1/integrations/nope/login')).status).to.equal(404);
      const res = await call('GET', '/api/v1/integrations/standin/login?scopes=standin:admin');
      expect(res.status).to.equal(422);
      expect(res.body.detail).to.contain('standin:admin');
    });
  });

  describe('GET /api/v1/integrations/:provider/callback', () => {
    afterEach(deleteAll);

    it('exchanges the code (PKCE checked by the provider) and stores an active oauth2 credential', async () => {
      const body = await connect();
      expect(validators.validate('credential-body.schema.json', body).ok).to.equal(true);
      expect(body).to.include({ provider: 'standin', kind: 'oauth2', status: 'active', system: false });
      expect(new Date(body.expires_at).getTime()).to.be.greaterThan(Date.now() + 3000_000);
      expect((await credentials()).map((c) => c.id)).to.deep.equal([body.id]);
      expect(await resolve(node, body.id)).to.include({ kind: 'oauth2', access_token: provider.issued.at(-2) });
    });

    it('answers a small HTML page to a browser', async () => {
      const res = await call('GET', await authorizedCallback(), { accept: 'text/html' }, undefined);
      expect(res.status).to.equal(201);
      expect(res.headers.get('content-type')).to.contain('text/html');
      expect(res.body).to.contain('standin connected');
    });

    const storesNothing = async (path: string, status: number, detail: RegExp, headers: Record<string, string> = {}) => {
      const before = (await credentials()).length;
      const res = await call('GET', path, headers, null);
      expect(res.status, JSON.stringify(res.body)).to.equal(status);
      if (typeof res.body === 'string') expect(res.body).to.match(detail);
      else expect(res.body.detail).to.match(detail);
      expect((await credentials()).length).to.equal(before);
    };

    it('access_denied at the provider: 403, nothing stored, the state used up', async () => {
      provider.behaviour.denyAuthorization = true;
      const path = await authorizedCallback();
      await storesNothing(path, 403, /denied \(access_denied\)/);
      await storesNothing(path.replace(/error=[^&]*&?/, 'code=x&'), 422, /unknown or already used login state/);
    });

    it('an unknown state, a missing state, or a missing code: clear errors, nothing stored', async () => {
      await storesNothing('/api/v1/integrations/standin/callback?code=abc&state=forged', 422, /unknown or already used login state/);
      await storesNothing('/api/v1/integrations/standin/callback?code=abc', 422, /no state/);
      const path = await authorizedCallback();
      await storesNothing(path.replace(/code=[^&]*/, 'code='), 422, /no code/);
    });

    it('a reused state: the second callback stores nothing', async () => {
      const path = await authorizedCallback();
      expect((await call('GET', path, {}, null)).status).to.equal(201);
      await storesNothing(path, 422, /unknown or already used login state/);
      expect((await credentials()).length).to.equal(1);
    });

    it('an expired state: 422 naming the expiry, nothing stored', async () => {
      const path = await authorizedCallback();
      const db = knex({ client: 'sqlite3', connection: { filename: `${dataDir}/blockyard.sqlite` }, useNullAsDefault: true });
      try {
        await db('oauth_states').update({ expires_at: Date.now() - 1000 });
      } finally {
        await db.destroy();
      }
      await storesNothing(path, 422, /login state expired/);
    });

    it('a token endpoint failure: 502, nothing stored; as HTML a page saying so', async () => {
      provider.behaviour.codeError = 'invalid_client';
      await storesNothing(await authorizedCallback(), 502, /token endpoint refused the code \(invalid_client/);
      await storesNothing(await authorizedCallback(), 502, /Could not connect standin/, { accept: 'text/html' });
    });

    it('a callback for an unknown provider: 404, nothing stored', async () => {
      const path = await authorizedCallback();
      await storesNothing(path.replace('/standin/', '/nope/'), 404, /unknown provider nope/);
    });
  });

  describe('refresh when a run needs the token', () => {
    afterEach(deleteAll);

    it('does not refresh a token far from expiry', async () => {
      const { id } = await connect();
      const before = provider.calls.refreshToken;
      await Promise.all(Array.from({ length: 10 }, () => resolve(node, id)));
      expect(provider.calls.refreshToken).to.equal(before);
    });

    it('50 concurrent runs on one expiring credential: exactly one refresh, all get the new token', async () => {
      const { id } = await connect();
      await expireSoon(id);
      provider.behaviour.delayMs = 150;
      const before = provider.calls.refreshToken;
      const resolved = await Promise.all(Array.from({ length: 50 }, () => resolve(node, id)));
      expect(provider.calls.refreshToken - before).to.equal(1);
      const tokens = new Set(resolved.map((r) => (r as { access_token: string }).access_token));
      expect([...tokens]).to.deep.equal([provider.issued.at(-2)]);
      const [stored] = await credentials();
      expect(new Date(stored!.expires_at!).getTime()).to.be.greaterThan(Date.now() + 3000_000);
    });

    it('two processes over one database, 25 concurrent runs each: exactly one refresh', async () => {
      const other = await startNode(dataDir, provider);
      try {
        const { id } = await connect();
        await expireSoon(id);
        provider.behaviour.delayMs = 150;
        const before = provider.calls.refreshToken;
        const resolved = await Promise.all(Array.from({ length: 50 }, (_, i) => resolve(i % 2 ? other : node, id)));
        expect(provider.calls.refreshToken - before).to.equal(1);
        expect(new Set(resolved.map((r) => (r as { access_token: string }).access_token)).size).to.equal(1);
      } finally {
        await other.close();
      }
    });

    it('invalid_grant: the credential becomes needs_reauth and the run fails clearly, after one refresh', async () => {
      const { id } = await connect();
      await expireSoon(id);
      provider.behaviour.rejectRefresh = true;
      const before = provider.calls.refreshToken;
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => kindOf(resolve(node, id))));
      expect(provider.calls.refreshToken - before).to.equal(1);
      for (const o of outcomes) expect(o).to.match(/^forbidden: credential .* (needs re-authorisation|is needs_reauth)/);
      expect(outcomes).to.include(`forbidden: credential ${id} needs re-authorisation: standin rejected its refresh token (invalid_grant); connect it again`);
      expect((await credentials())[0]!.status).to.equal('needs_reauth');
    });

    it('transient failures are retried', async () => {
      const { id } = await connect();
      await expireSoon(id);
      provider.behaviour.transientFailures = 2;
      const before = provider.calls.refreshToken;
      const resolved = (await resolve(node, id)) as { access_token: string };
      expect(provider.calls.refreshToken - before).to.equal(3);
      expect(resolved.access_token).to.equal(provider.issued.at(-2));
    });
  });

  describe('DELETE /api/v1/credentials/:id of an oauth2 credential', () => {
    it('revokes the refresh token at the provider (RFC 7009), then deletes: 200 with revoked true', async () => {
      const { id } = await connect();
      const refreshToken = provider.issued.at(-1)!;
      const res = await call('DELETE', `/api/v1/credentials/${id}`);
      expect(res.status).to.equal(200);
      expect(validators.validate('credential-deleted.schema.json', res.body).ok).to.equal(true);
      expect(res.body).to.deep.equal({ id, deleted: true, revoked: true });
      expect(provider.calls.revoked).to.include(refreshToken);
      expect(await credentials()).to.deep.equal([]);
    });

    it('deletes locally even when the revoke fails, and says so: revoked false with a detail naming no secret', async () => {
      const { id } = await connect();
      provider.behaviour.failRevoke = true;
      const revokedBefore = provider.calls.revoked.length;
      const res = await call('DELETE', `/api/v1/credentials/${id}`);
      expect(res.status).to.equal(200);
      expect(validators.validate('credential-deleted.schema.json', res.body).ok).to.equal(true);
      expect(res.body).to.include({ id, deleted: true, revoked: false });
      expect(res.body.detail).to.match(/standin revoke endpoint answered 503.*deleted here all the same/);
      for (const secret of [...provider.issued, provider.clientSecret]) expect(res.body.detail).not.to.contain(secret);
      expect(provider.calls.revoked.length).to.equal(revokedBefore);
      expect(await credentials()).to.deep.equal([]);
      expect((await call('DELETE', `/api/v1/credentials/${id}`)).status).to.equal(404);
    });

    it('a provider without a revoke endpoint: deleted, revoked null', async () => {
      node.blockyard.container.get(ProviderRegistry).registerAll([{ ...standInProvider(provider.url, false), name: 'norevoke' }], 'oauth spec');
      const body = (await call('GET', '/api/v1/integrations/norevoke/login')).body as { login_url: string };
      const back = await provider.authorize(body.login_url);
      const created = await call('GET', `${back.pathname}${back.search}`, {}, null);
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const revokedBefore = provider.calls.revoked.length;
      const res = await call('DELETE', `/api/v1/credentials/${created.body.id}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ id: created.body.id, deleted: true, revoked: null });
      expect(provider.calls.revoked.length).to.equal(revokedBefore);
    });
  });

  // Last: after every flow above has run.
  describe('secrecy', () => {
    it('never shows a token the provider issued in any response', () => {
      expect(provider.issued.length).to.be.greaterThan(10);
      const all = responses.join('\n');
      for (const token of provider.issued) expect(all).not.to.contain(token);
    });
  });
});
