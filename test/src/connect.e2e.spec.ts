// The connect flow of the external API guide against a real server process, with plain fetch
// as the browser: GET /connect/:provider (login first when needed), the connect page, Allow /
// Deny / connect a new account through the provider's OAuth login / add an API key, and the
// result page whose one script posts `blockyard_connect_result` to the app's origin only.
import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { createFullKey, createKey } from './support/cli.js';
import { connectForm, connectPath, connectWithCredential, postedMessage, type ConnectParams } from './support/connect-flow.js';
import { request } from './support/http.js';
import { Browser, createUser, OAuthApp } from './support/oauth-flow.js';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { STANDIN_PROVIDER, standInPluginFixture } from './support/standin-plugin.js';
import { startOAuthProvider, type OAuthProviderStandIn } from './support/stand-ins/oauth-provider.js';

const validators = new ContractValidators();
const ANN = { email: 'ann@example.org', password: 'Ann-connect-pässword-4711' };
const BOB = { email: 'bob@example.org', password: 'Bob-connect-pässword-0815' };
const APP_ORIGIN = 'https://app.example.com';
const SCOPES = ['example:resources.write'];

describe('connect flow end to end (/connect/:provider, grants, the posted result)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let pluginDir: string;
  let provider: OAuthProviderStandIn;
  let server: ServerProcess;
  let base: string;
  let annKey: string;
  let annReadOnlyKey: string;
  let bobKey: string;
  let clientId: string;
  let credentialId: string;
  let nonceSeq = 0;

  const params = (overrides: Partial<ConnectParams> = {}): ConnectParams => ({ clientId, scopes: SCOPES, nonce: `nonce-${++nonceSeq}-ü`, redirectOrigin: APP_ORIGIN, ...overrides });
  const annBrowser = async (): Promise<Browser> => {
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    return browser;
  };
  const grantsOfAnn = async () => {
    const res = await request(base, 'GET', '/api/v1/grants', { key: annKey });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(validators.validate('grant-list.schema.json', res.body).ok).to.equal(true);
    return res.body as Array<Record<string, any>>;
  };

  before(async () => {
    provider = await startOAuthProvider({ clientId: 'connect-client', clientSecret: 'connect-client-secret' });
    pluginDir = standInPluginFixture(provider);
    dataDir = makeDataDir();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      BLOCKYARD_DATA_DIR: dataDir,
      BLOCKYARD_PLUGINS: `@blockyard/plugin-example,${pluginDir}`,
      BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      BLOCKYARD_OAUTH_STANDIN_CLIENT_ID: provider.clientId,
      BLOCKYARD_OAUTH_STANDIN_CLIENT_SECRET: provider.clientSecret,
    };
    await createUser(ANN.email, 'Ann Example', ANN.password, env);
    await createUser(BOB.email, 'Bob Example', BOB.password, env);
    // Client management with a key needs a full-access key (every scope).
    annKey = await createFullKey(env);
    annReadOnlyKey = await createKey(['READ_INTEGRATIONS'], env);
    bobKey = await createKey(['READ_INTEGRATIONS', 'MANAGE_INTEGRATIONS'], env, { user: BOB.email });
    server = await startServerProcess({ ...env, PORT: String(port), BLOCKYARD_PUBLIC_URL: base }, dataDir);
    const client = await request(base, 'POST', '/oauth/clients/', {
      key: annKey,
      body: { name: 'Mail Helper <b>', description: 'Sorts your invoices', redirect_uris: [`${APP_ORIGIN}/oauth/callback`, 'http://localhost:5173/callback'], webhook_domains: ['app.example.com'] },
    });
    expect(client.status, JSON.stringify(client.body)).to.equal(201);
    clientId = client.body.client_id;
    // Only an app the user authorized with integrations:connect may ask for grants: Ann and Bob did.
    const app = new OAuthApp(base, clientId, client.body.client_secret, `${APP_ORIGIN}/oauth/callback`);
    for (const user of [ANN, BOB]) {
      const browser = new Browser(base);
      await browser.signIn(user.email, user.password);
      await app.authorize(browser, { scope: 'openid integrations:connect' });
    }
    const credential = await request(base, 'POST', '/api/v1/credentials', { key: annKey, body: { provider: 'example', kind: 'api_key', title: 'My Example key', secret: { api_key: 'connect-e2e-example-key' } } });
    expect(credential.status, JSON.stringify(credential.body)).to.equal(201);
    credentialId = credential.body.id;
  });

  after(async () => {
    await server?.stop();
    await provider?.close();
    if (dataDir) removeDataDir(dataDir);
    if (pluginDir) removeDataDir(pluginDir);
  });

  it('sends a browser without a session through the login form and back to the connect page, which says which app asks for what', async () => {
    const browser = new Browser(base);
    const path = connectPath('example', params());
    const first = await browser.send('GET', path);
    expect(first.status).to.equal(302);
    const login = new URL(first.location!, base);
    expect(login.pathname).to.equal('/login');
    expect(login.searchParams.get('next')).to.equal(path);
    const signedIn = await browser.signIn(ANN.email, ANN.password, login.searchParams.get('next')!);
    expect(signedIn.location).to.equal(path);
    const page = await browser.send('GET', signedIn.location!);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.body).to.contain('Connect Example to Mail Helper &lt;b&gt;').and.not.to.contain('<b>');
    expect(page.body).to.contain('Sorts your invoices');
    expect(page.body).to.contain('Signed in as Ann Example');
    expect(page.body).to.contain('Create and change resources on Example <code>example:resources.write</code>');
    expect(page.body).to.contain(`value="${credentialId}" checked`).and.contain('My Example key');
    expect(page.body).to.contain('name="csrf_token"').and.contain('value="allow"').and.contain('value="deny"');
    expect(page.body).to.contain('value="add_api_key"'); // the example provider takes API keys
    expect(page.body).not.to.contain('value="connect_new"'); // ... and has no OAuth login
    expect(page.body).not.to.contain('<script');
    expect(page.headers.get('x-frame-options')).to.equal('DENY');
    expect(page.headers.get('content-security-policy')).to.contain("default-src 'none'").and.contain("form-action 'self'");
  });

  it('creates a grant for the chosen credential; the result page posts exactly the message to the app origin', async () => {
    const p = params();
    const { page, posted } = await connectWithCredential(await annBrowser(), 'example', p, credentialId);
    expect(page.status, page.body).to.equal(200);
    expect(posted).to.not.equal(null);
    expect(posted!.origin).to.equal(APP_ORIGIN);
    const grantId = posted!.message.grant_id;
    expect(posted!.message).to.deep.equal({ type: 'blockyard_connect_result', success: true, grant_id: grantId, credential_id: credentialId, provider: 'example', nonce: p.nonce });
    expect(page.body).to.contain('Example connected');
    const grant = (await grantsOfAnn()).find((g) => g.grant_id === grantId);
    expect(grant).to.deep.include({ client_id: clientId, client_name: 'Mail Helper <b>', credential_id: credentialId, provider: 'example', scopes: SCOPES, status: 'active', last_used_at: null, revoked_at: null });
  });

  it('posts to the origin of another registered redirect URI too (http on localhost)', async () => {
    const { posted } = await connectWithCredential(await annBrowser(), 'example', params({ redirectOrigin: 'http://localhost:5173' }), credentialId);
    expect(posted!.origin).to.equal('http://localhost:5173');
    expect(posted!.message.success).to.equal(true);
  });

  it("posts nothing when redirect_origin is not the origin of one of the client's redirect URIs", async () => {
    const browser = await annBrowser();
    for (const redirectOrigin of ['https://evil.example', 'https://app.example.com.evil.example', 'https://app.example.com/oauth', 'http://app.example.com']) {
      const page = await browser.send('GET', connectPath('example', params({ redirectOrigin })));
      expect(page.status, redirectOrigin).to.equal(400);
      expect(page.body).to.contain('invalid_request').and.contain('is not the origin of any of');
      expect(postedMessage(page), redirectOrigin).to.equal(null);
      expect(page.body).not.to.contain('<script');
    }
    // A form post with a swapped origin is refused the same way, creating nothing.
    const before = (await grantsOfAnn()).length;
    const good = await browser.send('GET', connectPath('example', params()));
    const swapped = await browser.send('POST', '/connect/example', { ...connectForm(good, 'allow', { credential_id: credentialId }), redirect_origin: 'https://evil.example' });
    expect(swapped.status).to.equal(400);
    expect(postedMessage(swapped)).to.equal(null);
    expect(await grantsOfAnn()).to.have.length(before);
  });

  it('posts access_denied when the user declines, creating no grant', async () => {
    const browser = await annBrowser();
    const before = (await grantsOfAnn()).length;
    const p = params();
    const page = await browser.send('GET', connectPath('example', p));
    const denied = await browser.send('POST', '/connect/example', connectForm(page, 'deny'));
    const posted = postedMessage(denied);
    expect(posted!.origin).to.equal(APP_ORIGIN);
    expect(posted!.message).to.deep.equal({ type: 'blockyard_connect_result', success: false, error: 'access_denied', error_description: posted!.message.error_description, provider: 'example', nonce: p.nonce });
    expect(posted!.message.error_description).to.match(/declined/);
    expect(await grantsOfAnn()).to.have.length(before);
  });

  it('shows invalid_client for an unknown client and posts nothing; a disabled client gets invalid_client posted', async () => {
    const browser = await annBrowser();
    const unknown = await browser.send('GET', connectPath('example', params({ clientId: 'app_unknown' })));
    expect(unknown.status).to.equal(400);
    expect(unknown.body).to.contain('invalid_client');
    expect(postedMessage(unknown)).to.equal(null);

    expect((await request(base, 'PATCH', `/oauth/clients/${clientId}`, { key: annKey, body: { disabled: true } })).status).to.equal(200);
    try {
      const p = params();
      const disabled = await browser.send('GET', connectPath('example', p));
      const posted = postedMessage(disabled);
      expect(posted!.origin).to.equal(APP_ORIGIN);
      expect(posted!.message).to.deep.include({ type: 'blockyard_connect_result', success: false, error: 'invalid_client', provider: 'example', nonce: p.nonce });
    } finally {
      expect((await request(base, 'PATCH', `/oauth/clients/${clientId}`, { key: annKey, body: { disabled: false } })).status).to.equal(200);
    }
  });

  it('posts access_denied to an app the user has not authorized with integrations:connect, and once that authorization is revoked', async () => {
    const registered = await request(base, 'POST', '/oauth/clients/', { key: annKey, body: { name: 'Unasked App', redirect_uris: [`${APP_ORIGIN}/cb`] } });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    const other = new OAuthApp(base, registered.body.client_id, registered.body.client_secret, `${APP_ORIGIN}/cb`);
    const browser = await annBrowser();
    const before = (await grantsOfAnn()).length;
    const refused = async (why: string) => {
      const p = params({ clientId: other.clientId });
      const page = await browser.send('GET', connectPath('example', p));
      expect(page.status, why).to.equal(403);
      expect(page.body, why).not.to.contain('value="allow"');
      const posted = postedMessage(page);
      expect(posted!.origin, why).to.equal(APP_ORIGIN);
      expect(posted!.message, why).to.deep.include({ type: 'blockyard_connect_result', success: false, error: 'access_denied', provider: 'example', nonce: p.nonce });
      expect(posted!.message.error_description, why).to.contain('integrations:connect');
      return p;
    };

    // Never authorized.
    await refused('never authorized');
    // Authorized, but without integrations:connect.
    await other.authorize(browser, { scope: 'openid agents:execute' });
    const p = await refused('authorized without integrations:connect');
    // A form post (as from a page shown earlier) is refused the same way, creating nothing.
    const good = await browser.send('GET', connectPath('example', params()));
    const forged = await browser.send('POST', '/connect/example', { ...connectForm(good, 'allow', { credential_id: credentialId }), client_id: other.clientId, nonce: p.nonce });
    expect(postedMessage(forged)!.message).to.deep.include({ success: false, error: 'access_denied' });
    expect(await grantsOfAnn()).to.have.length(before);

    // Authorized with it: the connect page.
    const { code, verifier } = await other.authorize(browser, { scope: 'openid integrations:connect' });
    const page = await browser.send('GET', connectPath('example', params({ clientId: other.clientId })));
    expect(page.status, page.body).to.equal(200);
    expect(page.body).to.contain('value="allow"');
    // Revoking that authorization (its refresh token ends the whole grant) takes it away again.
    const tokens = await other.exchange(code!, verifier);
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    expect((await other.revoke(tokens.body.refresh_token, 'refresh_token')).status).to.equal(200);
    await refused('authorization revoked');
    expect(await grantsOfAnn()).to.have.length(before);
  });

  it('posts invalid_scope for a scope the provider does not have, without asking anyone to sign in', async () => {
    const p = params({ scopes: ['example:resources.write', 'example:admin'] });
    const page = await new Browser(base).send('GET', connectPath('example', p));
    expect(page.status).to.equal(400);
    const posted = postedMessage(page);
    expect(posted!.origin).to.equal(APP_ORIGIN);
    expect(posted!.message).to.deep.include({ success: false, error: 'invalid_scope', provider: 'example', nonce: p.nonce });
    expect(posted!.message.error_description).to.contain('example:admin');
  });

  it('refuses a form post without the session\'s CSRF token (403), creating nothing', async () => {
    const browser = await annBrowser();
    const before = (await grantsOfAnn()).length;
    const page = await browser.send('GET', connectPath('example', params()));
    const forged = await browser.send('POST', '/connect/example', { ...connectForm(page, 'allow', { credential_id: credentialId }), csrf_token: 'forged' });
    expect(forged.status).to.equal(403);
    expect(postedMessage(forged)).to.equal(null);
    expect(await grantsOfAnn()).to.have.length(before);
  });

  it("does not let a user grant another user's credential", async () => {
    const bob = new Browser(base);
    await bob.signIn(BOB.email, BOB.password);
    const page = await bob.send('GET', connectPath('example', params()));
    expect(page.status).to.equal(200);
    expect(page.body).not.to.contain(credentialId);
    const attempt = await bob.send('POST', '/connect/example', connectForm(page, 'allow', { credential_id: credentialId }));
    expect(postedMessage(attempt)!.message).to.deep.include({ success: false, error: 'invalid_request' });
    expect((await request(base, 'GET', '/api/v1/grants', { key: bobKey })).body).to.deep.equal([]);
  });

  it('adds a pasted API key as a new credential and grants it', async () => {
    const browser = await annBrowser();
    const page = await browser.send('GET', connectPath('example', params()));
    const added = await browser.send('POST', '/connect/example', connectForm(page, 'add_api_key', { api_key: 'pasted-example-key', title: 'Pasted key' }));
    const posted = postedMessage(added)!;
    expect(posted.message.success).to.equal(true);
    const credentials = await request(base, 'GET', '/api/v1/credentials', { key: annKey });
    const created = (credentials.body as Array<Record<string, any>>).find((c) => c.id === posted.message.credential_id);
    expect(created).to.deep.include({ provider: 'example', kind: 'api_key', title: 'Pasted key' });
    expect(added.body).not.to.contain('pasted-example-key');
  });

  it("connects a new account through the provider's OAuth login and comes back to the connect page to allow it", async () => {
    const browser = await annBrowser();
    const p = params({ scopes: ['standin:read'] });
    const page = await browser.send('GET', connectPath(STANDIN_PROVIDER, p));
    expect(page.status, page.body).to.equal(200);
    expect(page.body).to.contain('You have no Stand-in account connected yet.').and.contain('value="connect_new"');
    expect(page.headers.get('content-security-policy')).to.contain(`form-action 'self' ${provider.url}`);
    const started = await browser.send('POST', `/connect/${STANDIN_PROVIDER}`, connectForm(page, 'connect_new'));
    expect(started.status).to.equal(303);
    expect(started.location!.startsWith(`${provider.url}/authorize`)).to.equal(true);
    // The provider sends the browser back to our callback, which sends it back to the connect page.
    const callback = await provider.authorize(started.location!);
    const back = await browser.send('GET', callback.toString());
    expect(back.status).to.equal(303);
    const returned = new URL(back.location!, base);
    expect(returned.pathname).to.equal(`/connect/${STANDIN_PROVIDER}`);
    expect(returned.searchParams.get('nonce')).to.equal(p.nonce);
    const newCredential = returned.searchParams.get('connected')!;
    const again = await browser.send('GET', returned.pathname + returned.search);
    expect(again.status).to.equal(200);
    expect(again.body).to.contain('Your new Stand-in account is connected.').and.contain(`value="${newCredential}" checked`);
    const allowed = await browser.send('POST', `/connect/${STANDIN_PROVIDER}`, connectForm(again, 'allow', { credential_id: newCredential }));
    expect(postedMessage(allowed)!.message).to.deep.equal({ type: 'blockyard_connect_result', success: true, grant_id: postedMessage(allowed)!.message.grant_id, credential_id: newCredential, provider: STANDIN_PROVIDER, nonce: p.nonce });
  });

  it('comes back to the connect page with the error when the provider login is denied', async () => {
    const browser = await annBrowser();
    const page = await browser.send('GET', connectPath(STANDIN_PROVIDER, params({ scopes: ['standin:read'] })));
    const started = await browser.send('POST', `/connect/${STANDIN_PROVIDER}`, connectForm(page, 'connect_new'));
    provider.behaviour.denyAuthorization = true;
    try {
      const callback = await provider.authorize(started.location!);
      const back = await browser.send('GET', callback.toString());
      expect(back.status).to.equal(303);
      const again = await browser.send('GET', back.location!);
      expect(again.status).to.equal(200);
      expect(again.body).to.contain('Connecting a new Stand-in account failed').and.contain('access_denied');
      expect(postedMessage(again)).to.equal(null);
    } finally {
      provider.behaviour.denyAuthorization = false;
    }
  });

  it("lets the user list and revoke grants at /api/v1/grants; others' and unknown ids are 404, revoking again is a no-op", async () => {
    const { posted } = await connectWithCredential(await annBrowser(), 'example', params(), credentialId);
    const grantId = posted!.message.grant_id as string;
    const bobs = await request(base, 'GET', '/api/v1/grants', { key: bobKey });
    expect(bobs.status).to.equal(200);
    expect(bobs.body).to.deep.equal([]);
    expect((await request(base, 'DELETE', `/api/v1/grants/${grantId}`, { key: bobKey })).status).to.equal(404);
    expect((await grantsOfAnn()).find((g) => g.grant_id === grantId)).to.deep.include({ status: 'active' });
    const refused = await request(base, 'DELETE', `/api/v1/grants/${grantId}`, { key: annReadOnlyKey });
    expect(refused.status).to.equal(403);
    expect(refused.body.detail).to.contain('MANAGE_INTEGRATIONS');
    const revoked = await request(base, 'DELETE', `/api/v1/grants/${grantId}`, { key: annKey });
    expect(revoked.status).to.equal(204);
    const listed = (await grantsOfAnn()).find((g) => g.grant_id === grantId)!;
    expect(listed).to.deep.include({ status: 'revoked' });
    expect(listed.revoked_at).to.be.a('string');
    expect((await request(base, 'DELETE', `/api/v1/grants/${grantId}`, { key: annKey })).status).to.equal(204);
    expect((await request(base, 'DELETE', '/api/v1/grants/unknown-grant', { key: annKey })).status).to.equal(404);
  });
});
