// The whole external API guide, end to end, in a real browser: Debian's Chromium (headless,
// driven by playwright-core) against a real Blockyard server process and a small third-party
// app on another 127.0.0.1 port, written from the guide (support/guide-app.ts). The app
// registers as an OAuth client, sends the user through /oauth/authorize with PKCE S256 (our
// login and consent pages), exchanges the code, opens the connect popup and receives its
// postMessage, executes an agent with the grant and verifies the signed webhook; then the user
// revokes the grant, the app hears grant.revoked and its next execute is refused with 403.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { createFullKey } from './support/cli.js';
import { startExampleApi, type ExampleApiStandIn } from './support/example-api.js';
import { GuideApp } from './support/guide-app.js';
import { request } from './support/http.js';
import { createUser } from './support/oauth-flow.js';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { greetAgent } from './support/agent-fixtures.js';

const ANN = { email: 'ann@example.org', password: 'Ann-browser-pässword-2718' };
const EXAMPLE_KEY = 'guide-browser-example-key';
const APP_NAME = 'Guide App';

describe('the external API guide in Chromium (a third-party app, end to end)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let exampleApi: ExampleApiStandIn;
  let server: ServerProcess;
  let base: string;
  let annKey: string;
  let credentialId: string;
  let agentId: string;
  let app: GuideApp;
  let chromium: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Console messages, page errors and authorize requests seen in the browser, for failures. */
  const browserLog: string[] = [];
  const authorizeRequests: URL[] = [];
  /** The steps share one browser session: after a failed step the later ones fail at once, saying so. */
  let failedStep: string | null = null;

  const attach = (p: Page) => {
    p.on('console', (m) => browserLog.push(`[${p.url()}] console.${m.type()}: ${m.text()}`));
    p.on('pageerror', (e) => browserLog.push(`[${p.url()}] page error: ${e.message}`));
    p.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin === base && url.pathname === '/oauth/authorize') authorizeRequests.push(url);
    });
  };

  before(async () => {
    // First, so a machine without Chromium fails here, loudly, before anything else starts.
    chromium = await launchChromium();
    exampleApi = await startExampleApi(EXAMPLE_KEY);
    dataDir = makeDataDir();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      BLOCKYARD_DATA_DIR: dataDir,
      BLOCKYARD_PLUGINS: '@blockyard/plugin-example',
      BLOCKYARD_PROVIDER_BASE_URLS: `example=${exampleApi.url}/v1`,
    };
    await createUser(ANN.email, 'Ann Example', ANN.password, env);
    // Client management with a key needs a full-access key (every scope).
    annKey = await createFullKey(env);
    server = await startServerProcess(
      {
        ...env,
        PORT: String(port),
        BLOCKYARD_PUBLIC_URL: base,
        // webhooks go to the app on 127.0.0.1; a failed delivery is retried within a second
        BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
        BLOCKYARD_OUTBOUND_WEBHOOK_RETRY_SCHEDULE: '300ms,500ms,1s,2s',
        BLOCKYARD_OUTBOUND_WEBHOOK_POLL_MS: '100',
        BLOCKYARD_OUTBOUND_WEBHOOK_TIMEOUT_MS: '2000',
      },
      dataDir,
    );

    // What the user has before the app comes along: an Example account and an agent using it.
    const credential = await request(base, 'POST', '/api/v1/credentials', { key: annKey, body: { provider: 'example', kind: 'api_key', title: 'My Example account', secret: { api_key: EXAMPLE_KEY } } });
    expect(credential.status, JSON.stringify(credential.body)).to.equal(201);
    credentialId = credential.body.id;
    const agent = await request(base, 'POST', '/api/v1/agents', { key: annKey, body: greetAgent(credentialId) });
    expect(agent.status, JSON.stringify(agent.body)).to.equal(201);
    agentId = agent.body.id;

    app = new GuideApp({ blockyard: base, name: APP_NAME, connect: { provider: 'example', scopes: ['example:resources.write'] }, agent: { id: agentId, inputs: { name: 'Ada' } } });
    await app.start();
    context = await chromium.newContext();
    context.on('page', attach);
    page = await context.newPage();
    context.setDefaultTimeout(15_000);
  });

  after(async () => {
    await context?.close();
    await chromium?.close();
    await app?.stop();
    await server?.stop();
    await exampleApi?.close();
    if (dataDir) removeDataDir(dataDir);
  });

  beforeEach(function () {
    if (failedStep) throw new Error(`an earlier step failed (${failedStep}), so this one cannot run`);
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    failedStep ??= this.currentTest.title;
    console.error(`browser log:\n${browserLog.join('\n')}\nserver output (tail):\n${server?.output().slice(-4000)}`);
  });

  it('registers the app as an OAuth client with the user’s API key (POST /oauth/clients/, as the guide’s curl)', async () => {
    await page.goto(`${app.url}/`);
    await page.fill('#api-key', annKey);
    await page.click('#register');
    await page.locator('#client-id').waitFor();
    expect(app.client, 'the app keeps the registration answer').to.not.equal(null);
    expect(await page.textContent('#client-id')).to.equal(app.client!.client_id);
    expect(app.client!.client_secret).to.be.a('string').and.not.equal('');
    expect(app.client!.webhook_secret).to.match(/^whsec_/);
    const registered = await request(base, 'GET', `/oauth/clients/${app.client!.client_id}`, { key: annKey });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(200);
    expect(registered.body).to.deep.include({ name: APP_NAME, client_type: 'confidential', redirect_uris: [app.redirectUri], webhook_domains: ['127.0.0.1'], disabled: false });
    expect(JSON.stringify(registered.body)).not.to.contain(app.client!.client_secret);
  });

  it('sends the user through /oauth/authorize with PKCE S256 (our login page, then consent), and the app exchanges the code for tokens', async () => {
    await page.click('#sign-in');
    // Not signed in to Blockyard yet: the login page, saying which app it is for.
    await page.waitForURL((url) => url.origin === base && url.pathname === '/login');
    expect(await page.textContent('main')).to.contain(APP_NAME);
    await page.fill('#email', ANN.email);
    await page.fill('#password', ANN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The consent page: the app's name and the scopes in plain words.
    await page.getByRole('heading', { name: `Allow ${APP_NAME} to use your Blockyard account?` }).waitFor();
    expect(await page.locator('ul.scopes code').allTextContents()).to.include.members(['agents:execute', 'integrations:connect', 'integrations:list']);
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    // Back at the app: /callback got the code, the app exchanged it and shows who signed in.
    await page.waitForURL(`${app.url}/`);
    await page.locator('#signed-in').waitFor();
    expect(await page.textContent('#user-email')).to.equal(ANN.email);

    expect(app.callbacks).to.have.length(1);
    const callback = app.callbacks[0]!;
    expect(callback.error).to.equal(null);
    expect(callback.code).to.be.a('string').and.not.equal('');
    // The authorization request carried an S256 challenge of the verifier the page kept, and the state.
    const authorize = authorizeRequests[0]!;
    expect(authorize.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(authorize.searchParams.get('state')).to.equal(callback.state);
    const verifier = (await page.evaluate("sessionStorage.getItem('oauth_verifier')")) as string;
    expect(authorize.searchParams.get('code_challenge')).to.equal(createHash('sha256').update(verifier).digest('base64url'));
    expect(app.tokens).to.deep.include({ token_type: 'Bearer', expires_in: 3600 });
    expect(app.tokens!.scope.split(' ')).to.include.members(['agents:execute', 'integrations:list']);
    expect(app.tokens!.refresh_token).to.be.a('string');
  });

  it('opens the connect popup; the user picks the Example account and allows; the app receives blockyard_connect_result', async () => {
    const popupOpened = page.waitForEvent('popup');
    await page.click('#connect');
    const popup = await popupOpened;
    await popup.waitForLoadState();
    if (new URL(popup.url()).pathname === '/login') {
      // Signed out of Blockyard meanwhile: log in in the popup, which comes back to the connect page.
      await popup.fill('#email', ANN.email);
      await popup.fill('#password', ANN.password);
      await popup.getByRole('button', { name: 'Sign in' }).click();
    }
    await popup.getByRole('heading', { name: `Connect Example to ${APP_NAME}` }).waitFor();
    expect(new URL(popup.url()).origin).to.equal(base);
    expect(await popup.locator('ul.scopes code').allTextContents()).to.deep.equal(['example:resources.write']);
    await popup.check(`input[name="credential_id"][value="${credentialId}"]`);
    const popupClosed = popup.waitForEvent('close');
    await popup.getByRole('button', { name: 'Allow', exact: true }).click();
    // The result page posts to the opener and closes itself.
    await popupClosed;
    const grant = await app.waitFor('the connect result', () => app.grant);
    expect(grant).to.deep.equal({ grant_id: grant.grant_id, credential_id: credentialId, provider: 'example' });
    await page.locator('#grant', { hasText: `Grant ${grant.grant_id}` }).waitFor();
    expect(await page.textContent('#error')).to.equal('');

    const grants = await request(base, 'GET', '/api/v1/grants', { key: annKey });
    expect(grants.status, JSON.stringify(grants.body)).to.equal(200);
    const listed = (grants.body as Array<Record<string, unknown>>).find((g) => g.grant_id === grant.grant_id);
    expect(listed).to.deep.include({ client_id: app.client!.client_id, client_name: APP_NAME, credential_id: credentialId, provider: 'example', scopes: ['example:resources.write'], status: 'active' });
  });

  it('executes the agent with the grant through /api/external/v1 and receives the signed execution.completed webhook, verified as the guide does', async () => {
    await page.click('#run');
    const run = await app.waitFor('the execute answer', () => app.runs[0]);
    expect(run.status, JSON.stringify(run.body)).to.equal(202);
    expect(run.body).to.include({ status: 'queued' });
    const executionId = run.body.execution_id as string;
    await page.locator('#run-result', { hasText: /^202 / }).waitFor();

    const completed = await app.waitFor('a verified execution.completed webhook', () =>
      app.webhooks.find((w) => w.body.event === 'execution.completed' && w.body.data.execution_id === executionId),
    );
    expect(completed, 'signatures and timestamp').to.deep.include({ guideVerified: true, rawVerified: true, timestampMatches: true, standardVerified: true, status: 200 });
    expect(completed.headers['content-type']).to.match(/^application\/json/);
    expect(completed.body.data).to.deep.include({ execution_id: executionId, agent_id: agentId, status: 'completed', outputs: { count: [1] } });
    expect(completed.body.data.completed_at).to.be.a('string');
    const started = await app.waitFor('a verified execution.started webhook', () =>
      app.webhooks.find((w) => w.body.event === 'execution.started' && w.body.data.execution_id === executionId),
    );
    expect(started).to.deep.include({ guideVerified: true, status: 200 });
    expect(started.body.data).to.deep.include({ execution_id: executionId, agent_id: agentId, status: 'running' });
    expect(app.webhooks.filter((w) => !w.guideVerified), 'no delivery failed verification').to.deep.equal([]);

    // The block ran with the user's granted credential, and the guide's status call agrees.
    expect(exampleApi.received.map((r) => ({ authorization: r.authorization, body: r.body }))).to.deep.equal([
      { authorization: `Bearer ${EXAMPLE_KEY}`, body: { name: 'Hello, Ada.', type: 'greeting' } },
    ]);
    const status = await app.executionStatus(executionId);
    expect(status.status, JSON.stringify(status.body)).to.equal(200);
    expect(status.body).to.deep.include({ execution_id: executionId, status: 'completed', outputs: { count: [1] }, error: null });
  });

  it('the user revokes the grant: the app receives a signed grant.revoked and its next execute is refused with 403 "Grant validation failed"', async () => {
    const grantId = app.grant!.grant_id;
    const revoke = await request(base, 'DELETE', `/api/v1/grants/${grantId}`, { key: annKey });
    expect(revoke.status, JSON.stringify(revoke.body)).to.equal(204);

    const revoked = await app.waitFor('a grant.revoked webhook', () => app.webhooks.find((w) => w.body.event === 'grant.revoked'));
    expect(revoked).to.deep.include({ guideVerified: true, rawVerified: true, timestampMatches: true, standardVerified: true, status: 200 });
    expect(revoked.body.data).to.deep.include({ grant_id: grantId, provider: 'example', credential_id: credentialId });
    expect(revoked.body.data.revoked_at).to.be.a('string');

    await page.click('#run');
    const refused = await app.waitFor('the second execute answer', () => app.runs[1]);
    expect(refused.status, JSON.stringify(refused.body)).to.equal(403);
    expect(refused.body.detail).to.match(/^Grant validation failed: /);
    await page.locator('#run-result', { hasText: /^403 .*Grant validation failed: / }).waitFor();
  });
});
