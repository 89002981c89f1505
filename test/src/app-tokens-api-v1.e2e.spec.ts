// An app's OAuth access token on /api/v1, against a real server process: whatever API key
// scopes the user granted the app, it reaches the user's credentials only through credential
// grants. Credential management is refused (403), a block or agent execution with a credential
// needs a live grant of the app covering the block's scopes (403 "Grant validation failed: ..."
// otherwise), such an execution is the app's (it sees it at /api/external/v1 too) and carries
// its grant (revoking the grant fails it while it is still queued), and the app sees only its
// own executions (404 for the user's and other apps'). The user's API key works as before.
import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { connectWithCredential } from './support/connect-flow.js';
import { startExampleApi, type ExampleApiStandIn } from './support/example-api.js';
import { request, type JsonResponse } from './support/http.js';
import { Browser, OAuthApp, startServerWithUser } from './support/oauth-flow.js';
import { removeDataDir, type ServerProcess } from './support/server-process.js';
import { greetAgent } from './support/agent-fixtures.js';

const validators = new ContractValidators();
const ANN = { email: 'ann@example.org', name: 'Ann Example', password: 'Ann-app-v1-pässword-1618' };
const EXAMPLE_KEY = 'app-v1-e2e-example-key';
const REDIRECT = 'https://app.example.com/oauth/callback';
/** Every API key scope that touches credentials or executions, and the external API's. */
const APP_SCOPE = [
  'openid agents:execute integrations:connect integrations:list',
  'READ_BLOCK EXECUTE_BLOCK READ_GRAPH WRITE_GRAPH RUN_AGENT READ_RUN WRITE_RUN READ_INTEGRATIONS MANAGE_INTEGRATIONS DELETE_INTEGRATIONS',
].join(' ');
const FINISHED = ['completed', 'failed', 'cancelled'];

describe("an app's access token on /api/v1 (grants, not the user's credentials)", function () {
  this.timeout(120_000);
  let dataDir: string;
  let exampleApi: ExampleApiStandIn;
  let server: ServerProcess;
  let base: string;
  let annKey: string;
  let app: OAuthApp;
  let otherApp: OAuthApp;
  let token: string;
  let otherToken: string;
  /** Granted to `app`; never granted; granted to `app` for the revocation test only. */
  let grantedCredential: string;
  let ungrantedCredential: string;
  let revocableCredential: string;
  let grantedAgentId: string;
  let ungrantedAgentId: string;
  let nonce = 0;

  const v1 = <T = any>(method: string, path: string, bearer: string, body?: unknown): Promise<JsonResponse<T>> =>
    request<T>(base, method, `/api/v1${path}`, { body, headers: { authorization: `Bearer ${bearer}` } });
  const ext = <T = any>(method: string, path: string, bearer: string): Promise<JsonResponse<T>> =>
    request<T>(base, method, `/api/external/v1${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  const usedTheCredential = () => exampleApi.received.filter((r) => r.authorization === `Bearer ${EXAMPLE_KEY}`).length;

  const expectForbidden = (res: JsonResponse<any>, detail: RegExp) => {
    expect(res.status, JSON.stringify(res.body)).to.equal(403);
    expect(res.body.detail).to.match(detail);
    expect(validators.validate('error-body.schema.json', res.body).ok).to.equal(true);
  };
  const greetInputs = (credentialId: string) => ({ name: 'Ada', greetings: ['Hello'], is_funny: false, credentials: { id: credentialId } });

  async function tokenFor(client: OAuthApp, scope: string): Promise<string> {
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    const { code, verifier } = await client.authorize(browser, { scope });
    const res = await client.exchange(code!, verifier);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.access_token;
  }

  async function registerApp(name: string): Promise<OAuthApp> {
    const res = await request(base, 'POST', '/oauth/clients/', { key: annKey, body: { name, redirect_uris: [REDIRECT] } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return new OAuthApp(base, res.body.client_id, res.body.client_secret, REDIRECT);
  }

  async function grantFor(client: OAuthApp, credential: string): Promise<string> {
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    const { posted } = await connectWithCredential(browser, 'example', { clientId: client.clientId, scopes: ['example:resources.write'], nonce: `n-${++nonce}`, redirectOrigin: 'https://app.example.com' }, credential);
    expect(posted!.message.success, JSON.stringify(posted!.message)).to.equal(true);
    return posted!.message.grant_id as string;
  }

  async function createCredential(title: string): Promise<string> {
    const res = await request(base, 'POST', '/api/v1/credentials', { key: annKey, body: { provider: 'example', kind: 'api_key', title, secret: { api_key: EXAMPLE_KEY } } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id;
  }

  async function createAgent(body: unknown): Promise<string> {
    const res = await request(base, 'POST', '/api/v1/agents', { key: annKey, body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id;
  }

  /** Polls the user's view of an execution until `done` holds. */
  async function until(id: string, done: (execution: Record<string, any>) => boolean): Promise<Record<string, any>> {
    for (let i = 0; i < 600; i++) {
      const res = await request(base, 'GET', `/api/v1/executions/${id}`, { key: annKey });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      if (done(res.body)) return res.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`execution ${id} did not get there`);
  }

  before(async () => {
    exampleApi = await startExampleApi(EXAMPLE_KEY);
    ({ server, base, dataDir, key: annKey } = await startServerWithUser(ANN, {
      BLOCKYARD_PLUGINS: '@blockyard/plugin-example',
      BLOCKYARD_PROVIDER_BASE_URLS: `example=${exampleApi.url}/v1`,
      BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      // One execution at a time: a slow one keeps the next one queued (the revocation test).
      BLOCKYARD_WORKER_CONCURRENCY: '1',
    }));

    app = await registerApp('Mail Helper');
    otherApp = await registerApp('Other App');
    token = await tokenFor(app, APP_SCOPE);
    otherToken = await tokenFor(otherApp, APP_SCOPE);
    grantedCredential = await createCredential('Granted');
    ungrantedCredential = await createCredential('Not granted');
    revocableCredential = await createCredential('Granted, then revoked');
    await grantFor(app, grantedCredential);
    grantedAgentId = await createAgent(greetAgent(grantedCredential));
    ungrantedAgentId = await createAgent(greetAgent(ungrantedCredential));
  });

  after(async () => {
    await server?.stop();
    await exampleApi?.close();
    if (dataDir) removeDataDir(dataDir);
  });

  describe('credentials and provider logins', () => {
    it("refuses the user's credentials and provider logins to an app's token with 403, whatever its scopes; the API key still gets them", async () => {
      const grants = /an app reaches the user's integrations through grants \(the connect flow, \/connect\/:provider, and \/api\/external\/v1\/grants\)/;
      expectForbidden(await v1('GET', '/credentials', token), grants);
      expectForbidden(await v1('POST', '/credentials', token, { provider: 'example', kind: 'api_key', title: 'Sneaky', secret: { api_key: 'x' } }), grants);
      expectForbidden(await v1('DELETE', `/credentials/${grantedCredential}`, token), grants);
      expectForbidden(await v1('GET', '/integrations/example/login', token), grants);
      // Activating an agent registers a webhook at the provider with a credential of the user's.
      expectForbidden(await v1('POST', `/agents/${grantedAgentId}/activate`, token, {}), grants);

      const listed = await request(base, 'GET', '/api/v1/credentials', { key: annKey });
      expect(listed.status).to.equal(200);
      expect((listed.body as Array<{ id: string }>).map((c) => c.id)).to.include.members([grantedCredential, ungrantedCredential, revocableCredential]);
    });
  });

  describe('POST /api/v1/blocks/:id/execute', () => {
    it('refuses a credential the app holds no grant for: 403 Grant validation failed, nothing runs', async () => {
      const before = exampleApi.received.length;
      const res = await v1('POST', '/blocks/example.greet/execute?wait=5', token, { inputs: greetInputs(ungrantedCredential) });
      expectForbidden(res, /^Grant validation failed: No valid grants found for requested integrations: block example\.greet uses a example credential/);
      // Another app's grant does not count either.
      await grantFor(otherApp, ungrantedCredential);
      expectForbidden(await v1('POST', '/blocks/example.greet/execute', token, { inputs: greetInputs(ungrantedCredential) }), /^Grant validation failed: /);
      expect(exampleApi.received.length).to.equal(before);
    });

    it("runs through a covering grant; the execution is the app's, not another app's", async () => {
      const before = usedTheCredential();
      const res = await v1('POST', '/blocks/example.greet/execute?wait=10', token, { inputs: greetInputs(grantedCredential) });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.status, JSON.stringify(res.body)).to.equal('completed');
      expect(res.body.outputs.greeting_count).to.deep.equal([1]);
      expect(usedTheCredential()).to.equal(before + 1);
      const id = res.body.execution_id;
      expect((await v1('GET', `/executions/${id}`, token)).status).to.equal(200);
      const external = await ext('GET', `/executions/${id}`, token);
      expect(external.status, JSON.stringify(external.body)).to.equal(200);
      expect(external.body).to.deep.include({ execution_id: id, status: 'completed' });
      expect((await v1('GET', `/executions/${id}`, otherToken)).status).to.equal(404);
      expect((await ext('GET', `/executions/${id}`, otherToken)).status).to.equal(404);
      // The grant was used.
      const grants = await ext('GET', '/grants/', token);
      expect(grants.body.find((g: { credential_id: string }) => g.credential_id === grantedCredential).last_used_at).to.be.a('string');
    });

    it('needs no grant for a block without a credential', async () => {
      const res = await v1('POST', '/blocks/example.echo/execute?wait=10', token, { inputs: { text: 'hi' } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.include({ status: 'completed', outputs: { text: ['hi'] } });
    });

    it('fails a queued execution whose grant is revoked before it runs; the credential is never used', async () => {
      const grantId = await grantFor(app, revocableCredential);
      // The one worker slot is busy with the user's slow execution: the app's waits in the queue.
      const slow = await request(base, 'POST', '/api/v1/blocks/example.sleep/execute', { key: annKey, body: { inputs: { ms: 60_000 } } });
      expect(slow.status, JSON.stringify(slow.body)).to.equal(202);
      await until(slow.body.execution_id, (e) => e.status === 'running');
      const before = usedTheCredential();
      const queued = await v1('POST', '/blocks/example.greet/execute', token, { inputs: greetInputs(revocableCredential) });
      expect(queued.status, JSON.stringify(queued.body)).to.equal(202);
      const id = queued.body.execution_id;
      expect((await v1('GET', `/executions/${id}`, token)).body.status).to.equal('queued');

      expect((await request(base, 'DELETE', `/api/v1/grants/${grantId}`, { key: annKey })).status).to.equal(204);
      const failed = await v1('GET', `/executions/${id}`, token);
      expect(failed.body).to.deep.include({ status: 'failed', error: `grant ${grantId} was revoked` });

      // Free the worker; then one more execution behind it shows the queue went past the failed one.
      expect((await request(base, 'POST', `/api/v1/executions/${slow.body.execution_id}/cancel`, { key: annKey })).status).to.equal(200);
      const after = await request(base, 'POST', '/api/v1/blocks/example.echo/execute?wait=10', { key: annKey, body: { inputs: { text: 'drained' } } });
      expect(after.body.status, JSON.stringify(after.body)).to.equal('completed');
      expect((await v1('GET', `/executions/${id}`, token)).body).to.deep.include({ status: 'failed', error: `grant ${grantId} was revoked` });
      expect(usedTheCredential()).to.equal(before);
      // And it is refused from now on.
      expectForbidden(await v1('POST', '/blocks/example.greet/execute', token, { inputs: greetInputs(revocableCredential) }), /^Grant validation failed: /);
    });
  });

  describe('POST /api/v1/agents/:id/execute', () => {
    it('refuses an agent whose node uses a credential the app holds no grant for (403 Grant validation failed)', async () => {
      const before = exampleApi.received.length;
      expectForbidden(await v1('POST', `/agents/${ungrantedAgentId}/execute?wait=5`, token, { inputs: { name: 'Ada' } }), /^Grant validation failed: .*node "greet"/);
      expect(exampleApi.received.length).to.equal(before);
    });

    it("runs through the app's grant, waits with ?wait=, and records the execution as the app's", async () => {
      const res = await v1('POST', `/agents/${grantedAgentId}/execute?wait=10`, token, { inputs: { name: 'Ada' } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.include({ status: 'completed', outputs: { count: [1] } });
      const id = res.body.execution_id;
      const external = await ext('GET', `/executions/${id}`, token);
      expect(external.status, JSON.stringify(external.body)).to.equal(200);
      expect(external.body).to.deep.include({ agent_id: grantedAgentId, status: 'completed', outputs: { count: [1] } });
      // Without ?wait=: 202 with its Location.
      const queued = await v1('POST', `/agents/${grantedAgentId}/execute`, token, { inputs: { name: 'Bea' } });
      expect(queued.status, JSON.stringify(queued.body)).to.equal(202);
      expect(queued.headers.get('location')).to.equal(`/api/v1/executions/${queued.body.execution_id}`);
      expect((await until(queued.body.execution_id, (e) => FINISHED.includes(e.status))).status).to.equal('completed');
    });
  });

  describe('POST /api/v1/agents and PUT /api/v1/agents/:id', () => {
    it('refuses an app saving an agent that names a credential it holds no grant for, storing nothing; with a grant it saves', async () => {
      const before = await request(base, 'GET', '/api/v1/agents', { key: annKey });
      expectForbidden(await v1('POST', '/agents', token, greetAgent(ungrantedCredential)), /^Grant validation failed: .*node "greet"/);
      const after = await request(base, 'GET', '/api/v1/agents', { key: annKey });
      expect(after.body.agents.length).to.equal(before.body.agents.length);
      // Nor may it point the user's own agent at a credential it was not granted.
      expectForbidden(await v1('PUT', `/agents/${grantedAgentId}`, token, { ...greetAgent(ungrantedCredential), version: 1 }), /^Grant validation failed/);
      const saved = await v1('POST', '/agents', token, greetAgent(grantedCredential));
      expect(saved.status, JSON.stringify(saved.body)).to.equal(201);
    });
  });

  describe('executions of the user and of other apps', () => {
    it("answers 404 to the app for the user's own and another app's executions (read and cancel); the user's API key sees them all", async () => {
      const others = await v1('POST', '/blocks/example.echo/execute?wait=10', otherToken, { inputs: { text: 'theirs' } });
      expect(others.status, JSON.stringify(others.body)).to.equal(200);
      const theirs = others.body.execution_id;
      const slow = await request(base, 'POST', '/api/v1/blocks/example.sleep/execute', { key: annKey, body: { inputs: { ms: 60_000 } } });
      expect(slow.status, JSON.stringify(slow.body)).to.equal(202);
      const own = slow.body.execution_id;
      for (const id of [own, theirs]) {
        expect((await v1('GET', `/executions/${id}`, token)).status, id).to.equal(404);
        expect((await v1('POST', `/executions/${id}/cancel`, token)).status, id).to.equal(404);
        expect((await request(base, 'GET', `/api/v1/executions/${id}`, { key: annKey })).status, id).to.equal(200);
      }
      // The user's own slow execution was not cancelled by the app; the user cancels it.
      expect((await request(base, 'GET', `/api/v1/executions/${own}`, { key: annKey })).body.status).to.be.oneOf(['queued', 'running']);
      expect((await request(base, 'POST', `/api/v1/executions/${own}/cancel`, { key: annKey })).status).to.equal(200);
    });

    it('lets the app cancel its own execution on /api/v1', async () => {
      const slow = await v1('POST', '/blocks/example.sleep/execute', token, { inputs: { ms: 60_000 } });
      expect(slow.status, JSON.stringify(slow.body)).to.equal(202);
      const cancelled = await v1('POST', `/executions/${slow.body.execution_id}/cancel`, token);
      expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
      expect(cancelled.body.status).to.equal('cancelled');
    });
  });

  describe("the user's API key (acting for themselves)", () => {
    it('runs blocks and agents with any of its credentials, no grant needed', async () => {
      const block = await request(base, 'POST', '/api/v1/blocks/example.greet/execute?wait=10', { key: annKey, body: { inputs: greetInputs(ungrantedCredential) } });
      expect(block.status, JSON.stringify(block.body)).to.equal(200);
      expect(block.body.status).to.equal('completed');
      const agent = await request(base, 'POST', `/api/v1/agents/${ungrantedAgentId}/execute?wait=10`, { key: annKey, body: { inputs: { name: 'Me' } } });
      expect(agent.status, JSON.stringify(agent.body)).to.equal(200);
      expect(agent.body).to.deep.include({ status: 'completed', outputs: { count: [1] } });
      // Not the app's.
      expect((await ext('GET', `/executions/${agent.body.execution_id}`, token)).status).to.equal(404);
    });
  });
});
