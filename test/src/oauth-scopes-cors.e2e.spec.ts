import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { createFullKey } from './support/cli.js';
import { request } from './support/http.js';
import { Browser, createUser, OAuthApp, pkcePair } from './support/oauth-flow.js';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';

const validators = new ContractValidators();
const ANN = { email: 'ann@example.org', password: 'Ann-scopes-pässword-77' };
const REDIRECT = 'https://app.example.com/oauth/callback';
const BROWSER_ORIGIN = 'http://localhost:5173';
const BROWSER_REDIRECT = `${BROWSER_ORIGIN}/callback`;

/** The OAuth error shape: `{ error, error_description }`. */
function expectOAuthError(res: { status: number; body: Record<string, unknown> }, status: number, error: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.body.error).to.equal(error);
  expect(res.body.error_description).to.be.a('string').and.not.equal('');
  expect(validators.validate('oauth-error-body.schema.json', res.body).ok).to.equal(true);
}

describe('OAuth scopes and CORS end to end (unknown scopes, per-client allow-lists, browser apps)', function () {
  this.timeout(90_000);
  let dataDir: string;
  let server: ServerProcess;
  let base: string;
  let annKey: string;

  async function register(body: Record<string, unknown>): Promise<Record<string, any>> {
    const res = await request(base, 'POST', '/oauth/clients/', { key: annKey, body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  async function annBrowser(): Promise<Browser> {
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    return browser;
  }

  /** GET /oauth/authorize with PKCE: where the server sends the browser. */
  async function authorizeRedirect(app: OAuthApp, scope: string, state: string): Promise<{ status: number; location: string | null }> {
    const res = await (await annBrowser()).send('GET', app.authorizeUrl({ scope, state, challenge: pkcePair().challenge }));
    return { status: res.status, location: res.location };
  }

  async function tokensFor(app: OAuthApp, scope: string): Promise<Record<string, any>> {
    const { code, verifier } = await app.authorize(await annBrowser(), { scope });
    const res = await app.exchange(code!, verifier);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  }

  before(async () => {
    dataDir = makeDataDir();
    const env = { BLOCKYARD_DATA_DIR: dataDir };
    await createUser(ANN.email, 'Ann Example', ANN.password, env);
    // Client management with a key needs a full-access key (every scope).
    annKey = await createFullKey(env);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startServerProcess({ PORT: String(port), BLOCKYARD_PUBLIC_URL: base }, dataDir);
  });

  after(async () => {
    await server?.stop();
    if (dataDir) removeDataDir(dataDir);
  });

  describe('unknown scopes', () => {
    it('refuses an authorization request with an unknown scope: back at the redirect_uri with invalid_scope, its description and the state', async () => {
      const created = await register({ name: 'Any Scope App', redirect_uris: [REDIRECT] });
      const app = new OAuthApp(base, created.client_id, created.client_secret, REDIRECT);
      for (const scope of ['openid admin:everything', 'email openid+READ_BLOCK', 'openid Read_Block']) {
        const res = await authorizeRedirect(app, scope, 'st-unknown');
        expect(res.status, scope).to.be.oneOf([302, 303]);
        expect(res.location!.startsWith(`${REDIRECT}?`), res.location!).to.equal(true);
        const params = new URL(res.location!).searchParams;
        expect(params.get('error'), scope).to.equal('invalid_scope');
        expect(params.get('error_description')).to.match(/unknown scope/);
        expect(params.get('state')).to.equal('st-unknown');
        expect(params.get('code')).to.equal(null);
      }
      // Known scopes still go on to the consent page; OpenID Connect's offline_access is let through (refresh tokens are always issued).
      for (const scope of ['openid READ_BLOCK', 'openid offline_access']) {
        const ok = await authorizeRedirect(app, scope, 'st-ok');
        expect(ok.location!.startsWith('/oauth/interaction/') || ok.location!.startsWith(`${base}/oauth/interaction/`), `${scope}: ${ok.location}`).to.equal(true);
      }
    });

    it('refuses a refresh asking for an unknown scope with 400 invalid_scope JSON', async () => {
      const created = await register({ name: 'Refresher', redirect_uris: [REDIRECT] });
      const app = new OAuthApp(base, created.client_id, created.client_secret, REDIRECT);
      const tokens = await tokensFor(app, 'openid READ_BLOCK');
      expectOAuthError(await app.refresh(tokens.refresh_token, 'openid admin:everything'), 400, 'invalid_scope');
      expect((await app.refresh(tokens.refresh_token, 'openid')).status).to.equal(200);
    });
  });

  describe('per-client scope allow-lists', () => {
    it('registers a client with scopes, shows them, and refuses unknown ones with 422 { detail } naming them', async () => {
      const created = await register({ name: 'Limited', redirect_uris: [REDIRECT], scopes: ['openid', 'READ_BLOCK', 'agents:execute'] });
      expect(created.scopes).to.deep.equal(['openid', 'READ_BLOCK', 'agents:execute']);
      expect(validators.validate('oauth-client-created.schema.json', created).ok).to.equal(true);
      const shown = await request(base, 'GET', `/oauth/clients/${created.client_id}`, { key: annKey });
      expect(shown.body.scopes).to.deep.equal(['openid', 'READ_BLOCK', 'agents:execute']);
      const unrestricted = await register({ name: 'Unrestricted', redirect_uris: [REDIRECT] });
      expect(unrestricted.scopes).to.equal(null);

      for (const scopes of [['openid', 'admin:everything'], [], ['openid', 42]]) {
        const bad = await request(base, 'POST', '/oauth/clients/', { key: annKey, body: { name: 'Bad', redirect_uris: [REDIRECT], scopes } });
        expect(bad.status, JSON.stringify(scopes)).to.equal(422);
        expect(validators.validate('error-body.schema.json', bad.body).ok).to.equal(true);
        expect(bad.body.detail).to.match(/scope/);
      }
      const named = await request(base, 'POST', '/oauth/clients/', { key: annKey, body: { name: 'Bad', redirect_uris: [REDIRECT], scopes: ['openid', 'admin:everything'] } });
      expect(named.body.detail).to.contain('admin:everything');
    });

    it('changes the allow-list with PATCH (validated, persisted), and null allows every scope again', async () => {
      const created = await register({ name: 'Patchable', redirect_uris: [REDIRECT] });
      const path = `/oauth/clients/${created.client_id}`;
      const patched = await request(base, 'PATCH', path, { key: annKey, body: { scopes: ['email', 'integrations:list'] } });
      expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
      expect(patched.body.scopes).to.deep.equal(['email', 'integrations:list']);
      const bad = await request(base, 'PATCH', path, { key: annKey, body: { scopes: ['email', 'nope:nope'] } });
      expect(bad.status).to.equal(422);
      expect(bad.body.detail).to.contain('nope:nope');
      expect((await request(base, 'GET', path, { key: annKey })).body.scopes).to.deep.equal(['email', 'integrations:list']);
      const lifted = await request(base, 'PATCH', path, { key: annKey, body: { scopes: null } });
      expect(lifted.body.scopes).to.equal(null);
      expect((await request(base, 'GET', '/oauth/clients/', { key: annKey })).body.find((c: { client_id: string }) => c.client_id === created.client_id).scopes).to.equal(null);
    });

    it('refuses an authorization request for a scope outside the allow-list with invalid_scope, and lets the allowed ones through', async () => {
      const created = await register({ name: 'Narrow', redirect_uris: [REDIRECT], scopes: ['openid', 'READ_BLOCK'] });
      const app = new OAuthApp(base, created.client_id, created.client_secret, REDIRECT);
      const refused = await authorizeRedirect(app, 'openid email', 'st-narrow');
      const params = new URL(refused.location!).searchParams;
      expect(refused.location!.startsWith(`${REDIRECT}?`)).to.equal(true);
      expect(params.get('error')).to.equal('invalid_scope');
      expect(params.get('error_description')).to.be.a('string').and.not.equal('');
      expect(params.get('state')).to.equal('st-narrow');
      const tokens = await tokensFor(app, 'openid READ_BLOCK');
      expect(tokens.scope.split(' ')).to.have.members(['openid', 'READ_BLOCK']);
    });

    it('narrowing the allow-list takes the left-out scopes from existing tokens: a refresh asking for one is invalid_scope', async () => {
      const created = await register({ name: 'Shrinking', redirect_uris: [REDIRECT] });
      const app = new OAuthApp(base, created.client_id, created.client_secret, REDIRECT);
      const tokens = await tokensFor(app, 'openid email READ_BLOCK');
      const bearer = { authorization: `Bearer ${tokens.access_token}` };
      expect((await request(base, 'GET', '/api/v1/blocks', { headers: bearer })).status).to.equal(200);

      const patched = await request(base, 'PATCH', `/oauth/clients/${created.client_id}`, { key: annKey, body: { scopes: ['openid', 'email'] } });
      expect(patched.status).to.equal(200);
      // The access token already issued lost READ_BLOCK at once.
      const blocks = await request(base, 'GET', '/api/v1/blocks', { headers: bearer });
      expect(blocks.status).to.equal(403);
      expect(blocks.body.detail).to.contain('READ_BLOCK');
      expectOAuthError(await app.refresh(tokens.refresh_token, 'openid READ_BLOCK'), 400, 'invalid_scope');
      const refreshed = await app.refresh(tokens.refresh_token);
      expect(refreshed.status, JSON.stringify(refreshed.body)).to.equal(200);
      expect(refreshed.body.scope.split(' ')).to.have.members(['openid', 'email']);
      expect((await app.userinfo(refreshed.body.access_token)).body.email).to.equal(ANN.email);
      // Userinfo follows the grant: taking email away hides it from a token that holds it.
      await request(base, 'PATCH', `/oauth/clients/${created.client_id}`, { key: annKey, body: { scopes: ['openid'] } });
      const me = await app.userinfo(refreshed.body.access_token);
      expect(me.status).to.equal(200);
      expect(me.body.sub).to.be.a('string');
      expect(me.body).not.to.have.property('email');
    });
  });

  describe('CORS for browser apps', () => {
    let browserApp: OAuthApp;
    let accessToken: string;

    before(async () => {
      const created = await register({ name: 'Browser App', client_type: 'public', redirect_uris: [BROWSER_REDIRECT], scopes: ['openid', 'READ_BLOCK', 'agents:execute', 'integrations:list'] });
      browserApp = new OAuthApp(base, created.client_id, null, BROWSER_REDIRECT);
      accessToken = (await tokensFor(browserApp, 'openid READ_BLOCK agents:execute integrations:list')).access_token;
    });

    it('answers preflights of the external API with 204 and what the browser needs, never credentials', async () => {
      for (const path of ['/api/external/v1/executions/agents/a1/execute', '/api/external/v1/grants/', '/external-api/v1/blocks']) {
        const res = await fetch(`${base}${path}`, { method: 'OPTIONS', headers: { origin: BROWSER_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' } });
        expect(res.status, path).to.equal(204);
        expect(res.headers.get('access-control-allow-origin')).to.equal(BROWSER_ORIGIN);
        expect(res.headers.get('access-control-allow-methods')).to.contain('POST');
        for (const header of ['Authorization', 'Content-Type', 'Idempotency-Key']) expect(res.headers.get('access-control-allow-headers')).to.contain(header);
        expect(Number(res.headers.get('access-control-max-age'))).to.be.greaterThan(0);
        expect(res.headers.get('access-control-allow-credentials')).to.equal(null);
      }
    });

    it("lets the app's origin read external API answers (rate-limit headers exposed), and no other origin", async () => {
      for (const path of ['/api/external/v1/executions/capabilities', '/api/external/v1/grants/', '/external-api/v1/blocks']) {
        const mine = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${accessToken}`, origin: BROWSER_ORIGIN } });
        expect(mine.status, path).to.equal(200);
        expect(mine.headers.get('access-control-allow-origin'), path).to.equal(BROWSER_ORIGIN);
        expect(mine.headers.get('vary')).to.match(/origin/i);
        expect(mine.headers.get('access-control-expose-headers')).to.contain('X-RateLimit-Remaining').and.contain('Retry-After');
        expect(mine.headers.get('access-control-allow-credentials')).to.equal(null);
        const other = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${accessToken}`, origin: 'https://evil.example' } });
        expect(other.status).to.equal(200);
        expect(other.headers.get('access-control-allow-origin'), path).to.equal(null);
        expect(other.headers.get('vary')).to.match(/origin/i);
      }
    });

    it('gives no CORS headers on cookie-session routes (/api/v1, the login page)', async () => {
      const api = await fetch(`${base}/api/v1/blocks`, { headers: { authorization: `Bearer ${accessToken}`, origin: BROWSER_ORIGIN } });
      expect(api.status).to.equal(200);
      expect(api.headers.get('access-control-allow-origin')).to.equal(null);
      const preflight = await fetch(`${base}/api/v1/blocks`, { method: 'OPTIONS', headers: { origin: BROWSER_ORIGIN, 'access-control-request-method': 'GET' } });
      expect(preflight.headers.get('access-control-allow-origin')).to.equal(null);
      const login = await fetch(`${base}/login`, { headers: { origin: BROWSER_ORIGIN } });
      expect(login.headers.get('access-control-allow-origin')).to.equal(null);
    });

    it("answers /oauth/token CORS for the public client's origin only (oidc-provider's clientBasedCORS)", async () => {
      const { refresh_token: refreshToken } = await tokensFor(browserApp, 'openid READ_BLOCK');
      const preflight = await fetch(`${base}/oauth/token`, { method: 'OPTIONS', headers: { origin: BROWSER_ORIGIN, 'access-control-request-method': 'POST' } });
      expect(preflight.headers.get('access-control-allow-origin')).to.equal(BROWSER_ORIGIN);
      expect(preflight.headers.get('access-control-allow-credentials')).to.equal(null);
      const form = (token: string) => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: browserApp.clientId }).toString();
      const foreign = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: form(refreshToken) });
      expect(foreign.status).to.equal(400);
      expect(foreign.headers.get('access-control-allow-origin')).to.equal(null);
      expect(((await foreign.json()) as { error: string }).error).to.equal('invalid_request');
      const own = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { origin: BROWSER_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: form(refreshToken) });
      expect(own.status).to.equal(200);
      expect(own.headers.get('access-control-allow-origin')).to.equal(BROWSER_ORIGIN);
      expect(own.headers.get('access-control-allow-credentials')).to.equal(null);
    });
  });
});
