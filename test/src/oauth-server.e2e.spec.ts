import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { createFullKey } from './support/cli.js';
import { request } from './support/http.js';
import { Browser, createUser, formField, OAuthApp, pkcePair } from './support/oauth-flow.js';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';

const validators = new ContractValidators();
const ANN = { email: 'ann@example.org', password: 'Ann-e2e-pässword-4711' };
const BOB = { email: 'bob@example.org', password: 'Bob-e2e-pässword-0815' };
const REDIRECT = 'https://app.example.com/oauth/callback';
const SCOPE = 'openid profile email agents:execute READ_BLOCK';

/** The OAuth error shape: `{ error, error_description }`. */
function expectOAuthError(res: { status: number; body: Record<string, unknown> }, status: number, error: string, description?: RegExp): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.body.error).to.equal(error);
  expect(res.body.error_description).to.be.a('string');
  if (description) expect(String(res.body.error_description)).to.match(description);
  expect(validators.validate('oauth-error-body.schema.json', res.body).ok).to.equal(true);
}

describe('OAuth authorization server end to end (a third-party app with plain fetch)', function () {
  this.timeout(90_000);
  let dataDir: string;
  let server: ServerProcess;
  let base: string;
  let annKey: string;
  let app: OAuthApp;
  let publicApp: OAuthApp;
  let annId: string;
  const secrets: string[] = [ANN.password, BOB.password];

  /** Registers a client for Ann through the API (X-API-Key), as the guide's first step. */
  async function register(body: Record<string, unknown>): Promise<{ client_id: string; client_secret: string | null }> {
    const res = await request(base, 'POST', '/oauth/clients/', { key: annKey, body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    secrets.push(res.body.client_secret ?? '', res.body.webhook_secret);
    return res.body;
  }

  /** A fresh signed-in browser for Ann. */
  async function annBrowser(): Promise<Browser> {
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    return browser;
  }

  /** Authorizes (signed in already) and exchanges the code: the token response. */
  async function tokensFor(client: OAuthApp, scope = SCOPE): Promise<Record<string, any>> {
    const { code, verifier } = await client.authorize(await annBrowser(), { scope });
    const res = await client.exchange(code!, verifier);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    secrets.push(res.body.access_token, res.body.refresh_token);
    return res.body;
  }

  before(async () => {
    dataDir = makeDataDir();
    const env = { BLOCKYARD_DATA_DIR: dataDir };
    await createUser(ANN.email, 'Ann Example', ANN.password, env);
    await createUser(BOB.email, 'Bob Example', BOB.password, env);
    // Client management with a key needs a full-access key (every scope).
    annKey = await createFullKey(env);
    secrets.push(annKey);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startServerProcess({ PORT: String(port), BLOCKYARD_PUBLIC_URL: base }, dataDir);
    const confidential = await register({ name: 'Mail Helper <b>&</b>', description: 'Sorts your invoices', client_type: 'confidential', redirect_uris: [REDIRECT], webhook_domains: ['app.example.com'] });
    app = new OAuthApp(base, confidential.client_id, confidential.client_secret, REDIRECT);
    const pub = await register({ name: 'Browser App', client_type: 'public', redirect_uris: ['http://localhost:5173/callback'] });
    publicApp = new OAuthApp(base, pub.client_id, null, 'http://localhost:5173/callback');
  });

  after(async () => {
    await server?.stop();
    if (dataDir) removeDataDir(dataDir);
  });

  describe('discovery', () => {
    it('publishes the endpoints, S256 only, code only, and public signing keys', async () => {
      const discovery = await request(base, 'GET', '/.well-known/openid-configuration');
      expect(discovery.status).to.equal(200);
      expect(discovery.body).to.include({
        issuer: base,
        authorization_endpoint: `${base}/oauth/authorize`,
        token_endpoint: `${base}/oauth/token`,
        userinfo_endpoint: `${base}/oauth/userinfo`,
        revocation_endpoint: `${base}/oauth/revoke`,
        jwks_uri: `${base}/.well-known/jwks.json`,
      });
      expect(discovery.body.code_challenge_methods_supported).to.deep.equal(['S256']);
      expect(discovery.body.response_types_supported).to.deep.equal(['code']);
      expect(discovery.body.grant_types_supported).to.have.members(['authorization_code', 'refresh_token']);
      expect(discovery.body.scopes_supported).to.include.members(['openid', 'profile', 'email', 'agents:execute', 'integrations:list', 'integrations:connect', 'integrations:delete', 'READ_BLOCK', 'RUN_AGENT']);
      const jwks = await request(base, 'GET', '/.well-known/jwks.json');
      expect(jwks.status).to.equal(200);
      expect(jwks.body.keys).to.have.length.greaterThan(0);
      for (const key of jwks.body.keys) {
        expect(key).to.include({ kty: 'RSA', use: 'sig' });
        for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key, privatePart).not.to.have.property(privatePart);
      }
    });
  });

  describe('the whole flow', () => {
    it('logs in through the form, shows the consent page, exchanges the code, calls userinfo and /api/v1 with the bearer', async () => {
      const browser = new Browser(base);
      const state = 'state-123';
      const { code, params, verifier, consent } = await app.authorize(browser, { scope: SCOPE, user: ANN, state });
      // The login page named the app; the consent page names it and the scopes in plain words.
      const loginPage = browser.bodies.find((b) => b.includes('action="/login"'))!;
      expect(loginPage).to.contain('to continue to Mail Helper &lt;b&gt;&amp;&lt;/b&gt;');
      expect(consent.headers.get('content-type')).to.match(/^text\/html/);
      expect(consent.body).to.contain('Allow Mail Helper &lt;b&gt;&amp;&lt;/b&gt; to use your Blockyard account?');
      expect(consent.body).not.to.contain('<b>&</b>');
      expect(consent.body).to.contain('Sorts your invoices');
      expect(consent.body).to.contain('Signed in as Ann Example');
      for (const words of ['See your name', 'See your email address', 'Run agents for you and see how their runs went', 'See the available blocks']) expect(consent.body).to.contain(words);
      expect(consent.body).to.contain('name="csrf_token"');
      expect(consent.body).not.to.contain('<script');
      expect(consent.headers.get('content-security-policy')).to.contain("form-action 'self' https://app.example.com");
      expect(consent.headers.get('x-frame-options')).to.equal('DENY');

      expect(params.get('state')).to.equal(state);
      expect(params.get('iss')).to.equal(base);
      expect(code).to.be.a('string');

      const tokens = await app.exchange(code!, verifier);
      expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
      expect(tokens.headers.get('cache-control')).to.contain('no-store');
      expect(tokens.body).to.include({ token_type: 'Bearer', expires_in: 3600 });
      expect(tokens.body.access_token).to.be.a('string');
      expect(tokens.body.refresh_token).to.be.a('string');
      expect(tokens.body.id_token).to.be.a('string');
      expect(tokens.body.scope.split(' ')).to.have.members(SCOPE.split(' '));
      secrets.push(tokens.body.access_token, tokens.body.refresh_token);

      const me = await app.userinfo(tokens.body.access_token);
      expect(me.status).to.equal(200);
      expect(me.body).to.include({ name: 'Ann Example', email: ANN.email });
      annId = me.body.sub;
      expect(annId).to.be.a('string');
      const idToken = JSON.parse(Buffer.from(tokens.body.id_token.split('.')[1], 'base64url').toString());
      expect(idToken).to.include({ iss: base, aud: app.clientId, sub: annId });

      const blocks = await request(base, 'GET', '/api/v1/blocks', { headers: { authorization: `Bearer ${tokens.body.access_token}` } });
      expect(blocks.status, JSON.stringify(blocks.body)).to.equal(200);
      expect(blocks.body).to.be.an('array').that.is.not.empty;
      // Limited to the token's scopes: READ_BLOCK yes, EXECUTE_BLOCK no (Ann's API key has it).
      const execute = await request(base, 'POST', '/api/v1/blocks/example.echo/execute', { headers: { authorization: `Bearer ${tokens.body.access_token}` }, body: { inputs: { text: 'x' } } });
      expect(execute.status).to.equal(403);
      expect(execute.body.detail).to.contain('EXECUTE_BLOCK');
      // An app's token cannot mint API keys or register apps: those need the user.
      const key = await request(base, 'POST', '/api/v1/api-keys', { headers: { authorization: `Bearer ${tokens.body.access_token}` }, body: { name: 'x', scopes: ['READ_BLOCK'] } });
      expect(key.status).to.equal(403);
      const reg = await request(base, 'POST', '/oauth/clients/', { headers: { authorization: `Bearer ${tokens.body.access_token}` }, body: { name: 'x', redirect_uris: [REDIRECT] } });
      expect(reg.status).to.equal(403);
      // A made-up bearer is 401 with a Bearer challenge.
      const bogus = await request(base, 'GET', '/api/v1/blocks', { headers: { authorization: 'Bearer not-a-token' } });
      expect(bogus.status).to.equal(401);
      expect(bogus.headers.get('www-authenticate')).to.contain('Bearer');
    });

    it('lets a public client (no secret) through with PKCE, and answers CORS for its origin', async () => {
      const tokens = await tokensFor(publicApp, 'openid email');
      expect(tokens.refresh_token).to.be.a('string');
      const cors = await fetch(`${base}/oauth/token`, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } });
      expect(cors.headers.get('access-control-allow-origin')).to.equal('http://localhost:5173');
      const preflight = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { origin: 'http://localhost:5173', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: publicApp.clientId }).toString(),
      });
      expect(preflight.status).to.equal(200);
      expect(preflight.headers.get('access-control-allow-origin')).to.equal('http://localhost:5173');
      secrets.push(((await preflight.json()) as { refresh_token: string }).refresh_token);
    });

    it('sends access_denied to the app when the user denies, and refuses a consent without the CSRF token', async () => {
      const denied = await app.authorize(await annBrowser(), { scope: SCOPE, decision: 'deny' });
      expect(denied.code).to.equal(null);
      expect(denied.params.get('error')).to.equal('access_denied');
      expect(denied.params.get('state')).to.equal(denied.state);

      const browser = await annBrowser();
      const { challenge } = pkcePair();
      const start = await browser.send('GET', app.authorizeUrl({ scope: SCOPE, challenge }));
      const page = await browser.follow(start.location!);
      expect(page.status).to.equal(200);
      const action = /action="([^"]+\/confirm)"/.exec(page.body)![1]!;
      const forged = await browser.send('POST', action, { csrf_token: 'forged', decision: 'allow' });
      expect(forged.status).to.equal(403);
      const missing = await browser.send('POST', action, { decision: 'allow' });
      expect(missing.status).to.equal(403);
      // Another browser's session token does not fit either.
      const other = await annBrowser();
      const otherPage = await other.follow('/account');
      const foreign = await browser.send('POST', action, { csrf_token: formField(otherPage.body, 'csrf_token'), decision: 'allow' });
      expect(foreign.status).to.equal(403);
    });
  });

  describe('PKCE', () => {
    it('refuses an authorization request without code_challenge, back at the app with invalid_request', async () => {
      const browser = await annBrowser();
      const res = await browser.send('GET', app.authorizeUrl({ scope: SCOPE, state: 's1' }));
      expect(res.status).to.be.oneOf([302, 303]);
      const params = new URL(res.location!).searchParams;
      expect(res.location!.startsWith(REDIRECT)).to.equal(true);
      expect(params.get('error')).to.equal('invalid_request');
      expect(params.get('error_description')).to.match(/PKCE/);
      expect(params.get('state')).to.equal('s1');
    });

    it('refuses the plain method, for confidential and public clients alike', async () => {
      for (const client of [app, publicApp]) {
        const browser = await annBrowser();
        const { verifier } = pkcePair();
        const res = await browser.send('GET', client.authorizeUrl({ scope: 'openid', challenge: verifier, overrides: { code_challenge_method: 'plain' } }));
        const params = new URL(res.location!).searchParams;
        expect(params.get('error')).to.equal('invalid_request');
        expect(params.get('error_description')).to.match(/code_challenge_method/);
        const noMethod = await browser.send('GET', client.authorizeUrl({ scope: 'openid', challenge: verifier, overrides: { code_challenge_method: undefined } }));
        expect(new URL(noMethod.location!).searchParams.get('error')).to.equal('invalid_request');
      }
    });

    it('refuses a code exchange with a wrong or missing code_verifier (which does not use the code up)', async () => {
      const { code, verifier } = await app.authorize(await annBrowser(), { scope: SCOPE });
      expectOAuthError(await app.exchange(code!, pkcePair().verifier), 400, 'invalid_grant');
      const res = await app.token({ grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT });
      expectOAuthError(res, 400, 'invalid_grant');
      // PKCE failures do not consume the code: the right verifier still works once.
      const ok = await app.exchange(code!, verifier);
      expect(ok.status).to.equal(200);
      secrets.push(ok.body.access_token, ok.body.refresh_token);
    });
  });

  describe('redirect URIs', () => {
    it('never redirects to an unregistered redirect_uri: an error page (HTML, or JSON when asked)', async () => {
      const browser = await annBrowser();
      const { challenge } = pkcePair();
      for (const uri of ['https://evil.example/cb', `${REDIRECT}/`, `${REDIRECT}?x=1`, REDIRECT.toUpperCase()]) {
        const res = await browser.send('GET', app.authorizeUrl({ scope: SCOPE, challenge, overrides: { redirect_uri: uri } }));
        expect(res.status, uri).to.equal(400);
        expect(res.location, uri).to.equal(null);
        expect(res.headers.get('content-type')).to.match(/^text\/html/);
        expect(res.body).to.contain('invalid_redirect_uri');
        expect(res.body).not.to.contain('evil.example');
      }
      const json = await browser.send('GET', app.authorizeUrl({ scope: SCOPE, challenge, overrides: { redirect_uri: 'https://evil.example/cb' } }), undefined, { accept: 'application/json' });
      expect(json.status).to.equal(400);
      expectOAuthError({ status: json.status, body: JSON.parse(json.body) }, 400, 'invalid_redirect_uri');
      const missing = await browser.send('GET', app.authorizeUrl({ scope: SCOPE, challenge, overrides: { redirect_uri: undefined } }), undefined, { accept: 'application/json' });
      expect(missing.status).to.equal(400);
    });

    it('refuses an unknown client with an error page, and a code exchange with another redirect_uri', async () => {
      const browser = await annBrowser();
      const unknown = await browser.send('GET', new OAuthApp(base, 'app_unknown', null, REDIRECT).authorizeUrl({ scope: SCOPE, challenge: pkcePair().challenge }), undefined, { accept: 'application/json' });
      expectOAuthError({ status: unknown.status, body: JSON.parse(unknown.body) }, 400, 'invalid_client');
      const { code, verifier } = await app.authorize(browser, { scope: SCOPE });
      expectOAuthError(await app.exchange(code!, verifier, { redirect_uri: 'https://app.example.com/other' }), 400, 'invalid_grant');
    });
  });

  describe('authorization codes', () => {
    it('is single-use: a replay is refused and revokes the tokens the code issued', async () => {
      const { code, verifier } = await app.authorize(await annBrowser(), { scope: SCOPE });
      const first = await app.exchange(code!, verifier);
      expect(first.status).to.equal(200);
      secrets.push(first.body.access_token, first.body.refresh_token);
      expect((await app.userinfo(first.body.access_token)).status).to.equal(200);
      const replay = await app.exchange(code!, verifier);
      expectOAuthError(replay, 400, 'invalid_grant', /already/);
      expect((await app.userinfo(first.body.access_token)).status).to.equal(401);
      const api = await request(base, 'GET', '/api/v1/blocks', { headers: { authorization: `Bearer ${first.body.access_token}` } });
      expect(api.status).to.equal(401);
      expectOAuthError(await app.refresh(first.body.refresh_token), 400, 'invalid_grant');
    });

    it('gives exactly one of six concurrent exchanges of a code the tokens, and the replays revoke them', async () => {
      const { code, verifier } = await app.authorize(await annBrowser(), { scope: SCOPE });
      const results = await Promise.all(Array.from({ length: 6 }, () => app.exchange(code!, verifier)));
      const ok = results.filter((r) => r.status === 200);
      expect(ok.length, JSON.stringify(results.map((r) => r.body))).to.equal(1);
      for (const r of results.filter((x) => x.status !== 200)) expectOAuthError(r, 400, 'invalid_grant');
      for (const r of ok) {
        secrets.push(r.body.access_token, r.body.refresh_token);
        // The replays revoked what the code issued.
        expect((await app.userinfo(r.body.access_token)).status).to.equal(401);
        expect((await request(base, 'GET', '/api/v1/blocks', { headers: { authorization: `Bearer ${r.body.access_token}` } })).status).to.equal(401);
        expectOAuthError(await app.refresh(r.body.refresh_token), 400, 'invalid_grant');
      }
    });

    it("refuses another client's code", async () => {
      const { code, verifier } = await app.authorize(await annBrowser(), { scope: 'openid' });
      const thief = await register({ name: 'Thief', redirect_uris: [REDIRECT] });
      const stolen = await new OAuthApp(base, thief.client_id, thief.client_secret, REDIRECT).exchange(code!, verifier);
      expectOAuthError(stolen, 400, 'invalid_grant');
    });
  });

  describe('refresh tokens', () => {
    it('rotate on use; reusing a used one is refused and revokes the whole chain', async () => {
      const first = await tokensFor(app);
      const second = await app.refresh(first.refresh_token);
      expect(second.status, JSON.stringify(second.body)).to.equal(200);
      secrets.push(second.body.access_token, second.body.refresh_token);
      expect(second.body.refresh_token).to.not.equal(first.refresh_token);
      expect(second.body.access_token).to.not.equal(first.access_token);
      expect(second.body.expires_in).to.equal(3600);
      const third = await app.refresh(second.body.refresh_token);
      expect(third.status).to.equal(200);
      secrets.push(third.body.access_token, third.body.refresh_token);
      expect((await app.userinfo(third.body.access_token)).status).to.equal(200);

      const reuse = await app.refresh(first.refresh_token);
      expectOAuthError(reuse, 400, 'invalid_grant', /already used/);
      // The whole chain is gone: the newest refresh token and every access token.
      expectOAuthError(await app.refresh(third.body.refresh_token), 400, 'invalid_grant');
      for (const token of [first.access_token, second.body.access_token, third.body.access_token]) expect((await app.userinfo(token)).status).to.equal(401);
    });

    it('refuses a scope beyond the grant (invalid_scope) and gives a narrower one', async () => {
      const tokens = await tokensFor(app, 'openid email READ_BLOCK');
      expectOAuthError(await app.refresh(tokens.refresh_token, 'openid email READ_BLOCK agents:execute'), 400, 'invalid_scope');
      expectOAuthError(await app.refresh(tokens.refresh_token, 'openid RUN_AGENT'), 400, 'invalid_scope');
      const narrower = await app.refresh(tokens.refresh_token, 'openid READ_BLOCK');
      expect(narrower.status, JSON.stringify(narrower.body)).to.equal(200);
      secrets.push(narrower.body.access_token, narrower.body.refresh_token);
      expect(narrower.body.scope.split(' ')).to.have.members(['openid', 'READ_BLOCK']);
      expect((await app.userinfo(narrower.body.access_token)).body).not.to.have.property('email');
    });

    it("refuses another client's refresh token", async () => {
      const tokens = await tokensFor(app, 'openid');
      const other = await register({ name: 'Other', redirect_uris: [REDIRECT] });
      expectOAuthError(await new OAuthApp(base, other.client_id, other.client_secret, REDIRECT).refresh(tokens.refresh_token), 400, 'invalid_grant');
      expect((await app.refresh(tokens.refresh_token)).status).to.equal(200);
    });
  });

  describe('client authentication', () => {
    it('refuses a wrong, missing or another client\'s secret with 401 invalid_client, in the body or as Basic', async () => {
      const { code, verifier } = await app.authorize(await annBrowser(), { scope: SCOPE });
      const params = { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT, code_verifier: verifier };
      expectOAuthError(await app.token(params, { secret: `${app.clientSecret}x` }), 401, 'invalid_client');
      expectOAuthError(await app.token(params, { secret: 'secret_wrong', basic: true }), 401, 'invalid_client');
      expectOAuthError(await app.token(params, { secret: null }), 401, 'invalid_client');
      expectOAuthError(await app.token(params, { secret: publicApp.clientSecret ?? 'x' }), 401, 'invalid_client');
      // The code survived the failed attempts; Basic with the right secret works.
      const ok = await app.token(params, { basic: true });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      secrets.push(ok.body.access_token, ok.body.refresh_token);
    });

    it('refuses a secret from a public client', async () => {
      expectOAuthError(await publicApp.token({ grant_type: 'refresh_token', refresh_token: 'x' }, { secret: 'secret_x' }), 401, 'invalid_client');
    });
  });

  describe('revocation', () => {
    it('answers 200 whatever the token, and a revoked access token stops working at once', async () => {
      const tokens = await tokensFor(app);
      const revoked = await app.revoke(tokens.access_token, 'access_token');
      expect(revoked.status).to.equal(200);
      expect((await app.userinfo(tokens.access_token)).status).to.equal(401);
      expect((await request(base, 'GET', '/api/v1/blocks', { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).to.equal(401);
      for (const token of [tokens.access_token, 'unknown-token', 'x'.repeat(300)]) expect((await app.revoke(token)).status, token).to.equal(200);
      // Revoking the refresh token ends the grant.
      const more = await tokensFor(app);
      expect((await app.revoke(more.refresh_token, 'refresh_token')).status).to.equal(200);
      expectOAuthError(await app.refresh(more.refresh_token), 400, 'invalid_grant');
      expect((await app.userinfo(more.access_token)).status).to.equal(401);
    });

    it("does not let a client revoke another client's token (still 200)", async () => {
      const tokens = await tokensFor(app, 'openid');
      const other = await register({ name: 'Revoker', redirect_uris: [REDIRECT] });
      expect((await new OAuthApp(base, other.client_id, other.client_secret, REDIRECT).revoke(tokens.access_token)).status).to.equal(200);
      expect((await app.userinfo(tokens.access_token)).status).to.equal(200);
    });
  });

  describe('users', () => {
    it("issues Bob's tokens for Bob: the consent page and userinfo show who signed in", async () => {
      const browser = new Browser(base);
      const { code, verifier, consent } = await app.authorize(browser, { scope: 'openid profile', user: BOB });
      expect(consent.body).to.contain('Signed in as Bob Example');
      const tokens = await app.exchange(code!, verifier);
      secrets.push(tokens.body.access_token, tokens.body.refresh_token);
      const me = await app.userinfo(tokens.body.access_token);
      expect(me.body.name).to.equal('Bob Example');
      expect(me.body.sub).to.not.equal(annId);
    });
  });

  describe('secrecy', () => {
    it('keeps passwords, client secrets and tokens out of the logs and out of the database in plain form', async () => {
      const { readdirSync, readFileSync } = await import('node:fs');
      const files = readdirSync(dataDir).filter((f) => f.startsWith('blockyard.sqlite'));
      const stored = files.map((f) => readFileSync(`${dataDir}/${f}`).toString('latin1')).join('\n');
      const logs = server.output();
      for (const secret of secrets.filter((s) => s && s.length > 8)) {
        expect(logs, 'server output').not.to.contain(secret);
        expect(stored, 'database files').not.to.contain(secret);
      }
    });
  });
});

describe('OAuth authorization codes expire (BLOCKYARD_OAUTH_CODE_TTL_SECONDS)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let server: ServerProcess;

  after(async () => {
    await server?.stop();
    if (dataDir) removeDataDir(dataDir);
  });

  it('refuses a code used after its lifetime with invalid_grant, "expired"', async () => {
    dataDir = makeDataDir();
    const env = { BLOCKYARD_DATA_DIR: dataDir };
    await createUser(ANN.email, 'Ann Example', ANN.password, env);
    // Client management with a key needs a full-access key (every scope).
    const key = await createFullKey(env);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = await startServerProcess({ PORT: String(port), BLOCKYARD_PUBLIC_URL: base, BLOCKYARD_OAUTH_CODE_TTL_SECONDS: '1' }, dataDir);
    const created = await request(base, 'POST', '/oauth/clients/', { key, body: { name: 'Slow App', redirect_uris: [REDIRECT] } });
    const app = new OAuthApp(base, created.body.client_id, created.body.client_secret, REDIRECT);
    const { code, verifier } = await app.authorize(new Browser(base), { scope: 'openid', user: ANN });
    await new Promise((r) => setTimeout(r, 2_100));
    expectOAuthError(await app.exchange(code!, verifier), 400, 'invalid_grant', /expired/);
  });
});
