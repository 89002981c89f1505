// The external API (/api/external/v1, the guide's table) against a real server process, as a
// third-party app written from the guide calls it with plain fetch: capabilities, execute an
// agent with a grant (and without one), status, cancel, Idempotency-Key, webhook_url checks,
// grants (list, get, delete the credential), scopes, other users' and other apps' ids.
import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { createFullKey, createKey } from './support/cli.js';
import { connectWithCredential } from './support/connect-flow.js';
import { startExampleApi, type ExampleApiStandIn } from './support/example-api.js';
import { request, type JsonResponse } from './support/http.js';
import { Browser, createUser, OAuthApp } from './support/oauth-flow.js';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { greetAgent } from './support/agent-fixtures.js';

const validators = new ContractValidators();
const ANN = { email: 'ann@example.org', password: 'Ann-external-pässword-4711' };
const BOB = { email: 'bob@example.org', password: 'Bob-external-pässword-0815' };
const EXAMPLE_KEY = 'external-e2e-example-key';
const REDIRECT = 'https://app.example.com/oauth/callback';
const APP_SCOPE = 'openid profile agents:execute integrations:list integrations:delete';

/** ms -> example.sleep -> slept; needs no credential. */
const sleepAgent = {
  name: 'sleeper',
  nodes: [
    { id: 'ms', kind: 'input', name: 'ms', schema: { type: 'integer' }, required: true },
    { id: 'sleep', kind: 'block', block_id: 'example.sleep' },
    { id: 'slept', kind: 'output', name: 'slept', schema: { type: 'integer' } },
  ],
  links: [
    { source_node_id: 'ms', source_output: 'value', sink_node_id: 'sleep', sink_input: 'ms' },
    { source_node_id: 'sleep', source_output: 'slept_ms', sink_node_id: 'slept', sink_input: 'value' },
  ],
};

describe('external API end to end (/api/external/v1, as an app written from the guide)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let exampleApi: ExampleApiStandIn;
  let server: ServerProcess;
  let base: string;
  let annKey: string;
  let bobKey: string;
  let app: OAuthApp;
  let otherApp: OAuthApp;
  /** Ann's access tokens: app with every external scope, app with integrations:list only, the other app; Bob's for app. */
  let token: string;
  let listOnlyToken: string;
  let otherToken: string;
  let bobToken: string;
  let credentialId: string;
  let otherCredentialId: string;
  let greetAgentId: string;
  let ungrantedAgentId: string;
  let sleepAgentId: string;
  let grantId: string;
  let otherAppGrantId: string;
  let nonce = 0;

  const ext = <T = any>(method: string, path: string, bearer: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<JsonResponse<T>> =>
    request<T>(base, method, `/api/external/v1${path}`, { ...options, headers: { authorization: `Bearer ${bearer}`, ...options.headers } });

  const expectGrantValidationFailed = (res: JsonResponse<any>, reason?: RegExp) => {
    expect(res.status, JSON.stringify(res.body)).to.equal(403);
    expect(res.body.detail).to.match(/^Grant validation failed: /);
    if (reason) expect(res.body.detail).to.match(reason);
    expect(validators.validate('error-body.schema.json', res.body).ok).to.equal(true);
  };

  /** Polls the app's view of an execution until it is finished. */
  async function finished(id: string, bearer = token): Promise<Record<string, any>> {
    for (let i = 0; i < 300; i++) {
      const res = await ext('GET', `/executions/${id}`, bearer);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      if (['completed', 'failed', 'cancelled'].includes(res.body.status)) return res.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`execution ${id} did not finish`);
  }

  async function tokenFor(client: OAuthApp, user: { email: string; password: string }, scope: string): Promise<string> {
    const browser = new Browser(base);
    await browser.signIn(user.email, user.password);
    const { code, verifier } = await client.authorize(browser, { scope });
    const res = await client.exchange(code!, verifier);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.access_token;
  }

  async function registerApp(name: string): Promise<OAuthApp> {
    const res = await request(base, 'POST', '/oauth/clients/', { key: annKey, body: { name, redirect_uris: [REDIRECT], webhook_domains: ['app.example.com', '*.hooks.example.com'] } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return new OAuthApp(base, res.body.client_id, res.body.client_secret, REDIRECT);
  }

  async function grantFor(client: OAuthApp, credential: string): Promise<string> {
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    await client.authorize(browser, { scope: 'openid integrations:connect' }); // only an app the user authorized to connect may ask
    const { posted } = await connectWithCredential(browser, 'example', { clientId: client.clientId, scopes: ['example:resources.write'], nonce: `n-${++nonce}`, redirectOrigin: 'https://app.example.com' }, credential);
    expect(posted!.message.success, JSON.stringify(posted!.message)).to.equal(true);
    return posted!.message.grant_id as string;
  }

  async function createAgent(body: unknown): Promise<string> {
    const res = await request(base, 'POST', '/api/v1/agents', { key: annKey, body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id;
  }

  before(async () => {
    exampleApi = await startExampleApi(EXAMPLE_KEY);
    dataDir = makeDataDir();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      BLOCKYARD_DATA_DIR: dataDir,
      BLOCKYARD_PLUGINS: '@blockyard/plugin-example',
      BLOCKYARD_PROVIDER_BASE_URLS: `example=${exampleApi.url}/v1`,
      BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
    };
    await createUser(ANN.email, 'Ann Example', ANN.password, env);
    await createUser(BOB.email, 'Bob Example', BOB.password, env);
    // Client management with a key needs a full-access key (every scope).
    annKey = await createFullKey(env);
    bobKey = await createKey(['READ_INTEGRATIONS', 'MANAGE_INTEGRATIONS'], env, { user: BOB.email });
    server = await startServerProcess({ ...env, PORT: String(port), BLOCKYARD_PUBLIC_URL: base }, dataDir);

    app = await registerApp('Mail Helper');
    otherApp = await registerApp('Other App');
    token = await tokenFor(app, ANN, APP_SCOPE);
    listOnlyToken = await tokenFor(app, ANN, 'integrations:list');
    otherToken = await tokenFor(otherApp, ANN, APP_SCOPE);
    bobToken = await tokenFor(app, BOB, APP_SCOPE);

    const credential = await request(base, 'POST', '/api/v1/credentials', { key: annKey, body: { provider: 'example', kind: 'api_key', title: 'Example', secret: { api_key: EXAMPLE_KEY } } });
    expect(credential.status, JSON.stringify(credential.body)).to.equal(201);
    credentialId = credential.body.id;
    const second = await request(base, 'POST', '/api/v1/credentials', { key: annKey, body: { provider: 'example', kind: 'api_key', title: 'Second', secret: { api_key: EXAMPLE_KEY } } });
    otherCredentialId = second.body.id;
    greetAgentId = await createAgent(greetAgent(credentialId));
    ungrantedAgentId = await createAgent(greetAgent(otherCredentialId));
    sleepAgentId = await createAgent(sleepAgent);
    grantId = await grantFor(app, credentialId);
    otherAppGrantId = await grantFor(otherApp, otherCredentialId);
  });

  after(async () => {
    await server?.stop();
    await exampleApi?.close();
    if (dataDir) removeDataDir(dataDir);
  });

  beforeEach(() => {
    exampleApi.received.length = 0;
  });

  describe('GET /executions/capabilities (agents:execute)', () => {
    it("answers the user, the app, the token's scopes and the app's live grants", async () => {
      const res = await ext('GET', '/executions/capabilities', token);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(validators.validate('external-capabilities.schema.json', res.body).ok).to.equal(true);
      expect(res.body.client_id).to.equal(app.clientId);
      expect(res.body.scopes).to.include.members(['agents:execute', 'integrations:list', 'integrations:delete']);
      expect(res.body.grants.map((g: { grant_id: string }) => g.grant_id)).to.deep.equal([grantId]);
      expect(res.body.grants[0]).to.deep.include({ client_id: app.clientId, credential_id: credentialId, provider: 'example', scopes: ['example:resources.write'], status: 'active' });
    });
  });

  describe('POST /executions/agents/:agent_id/execute (agents:execute)', () => {
    it('runs the agent with the granted credential: queued, then completed with its outputs; the grant was used', async () => {
      const res = await ext('POST', `/executions/agents/${greetAgentId}/execute`, token, { body: { inputs: { name: 'Ada' }, grant_ids: [grantId] } });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(validators.validate('external-execute-accepted.schema.json', res.body).ok).to.equal(true);
      expect(res.body).to.include({ status: 'queued' });
      expect(res.body.message).to.be.a('string');
      expect(res.headers.get('location')).to.equal(`/api/external/v1/executions/${res.body.execution_id}`);
      const done = await finished(res.body.execution_id);
      expect(validators.validate('external-execution-status.schema.json', done).ok).to.equal(true);
      expect(done).to.deep.include({ execution_id: res.body.execution_id, agent_id: greetAgentId, status: 'completed', outputs: { count: [1] }, error: null });
      expect(done.started_at).to.be.a('string');
      expect(done.completed_at).to.be.a('string');
      expect(exampleApi.received).to.deep.equal([{ method: 'POST', path: '/v1/resources', authorization: `Bearer ${EXAMPLE_KEY}`, body: { name: 'Hello, Ada.', type: 'greeting' } }]);
      expect(JSON.stringify(done)).not.to.contain(EXAMPLE_KEY);
      const grant = await ext('GET', `/grants/${grantId}`, token);
      expect(grant.body.last_used_at).to.be.a('string');
    });

    it('runs with any live grant of the app when grant_ids is left out (the guide sends null)', async () => {
      const res = await ext('POST', `/executions/agents/${greetAgentId}/execute`, token, { body: { inputs: { name: 'Bo' }, grant_ids: null, webhook_url: null } });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect((await finished(res.body.execution_id)).status).to.equal('completed');
    });

    it('refuses an agent whose credential the app holds no grant for: 403 "Grant validation failed: ...", running nothing', async () => {
      const res = await ext('POST', `/executions/agents/${ungrantedAgentId}/execute`, token, { body: { inputs: { name: 'Ada' } } });
      expectGrantValidationFailed(res, /No valid grants found for requested integrations/);
      const named = await ext('POST', `/executions/agents/${greetAgentId}/execute`, token, { body: { inputs: { name: 'Ada' }, grant_ids: [] } });
      expectGrantValidationFailed(named);
      expect(exampleApi.received).to.deep.equal([]);
    });

    it("refuses another app's grant, named or not (403)", async () => {
      expectGrantValidationFailed(await ext('POST', `/executions/agents/${ungrantedAgentId}/execute`, token, { body: { inputs: { name: 'Ada' }, grant_ids: [otherAppGrantId] } }), /is not a live grant of this app/);
      // The other app holds a grant on the credential of ungrantedAgentId, not on greetAgentId's.
      expectGrantValidationFailed(await ext('POST', `/executions/agents/${greetAgentId}/execute`, otherToken, { body: { inputs: { name: 'Ada' } } }));
      expect(exampleApi.received).to.deep.equal([]);
    });

    it("answers 404 for another user's agent (Bob's token for the same app)", async () => {
      const res = await ext('POST', `/executions/agents/${greetAgentId}/execute`, bobToken, { body: { inputs: { name: 'Ada' } } });
      expect(res.status).to.equal(404);
    });

    it('answers the first execution for a repeated Idempotency-Key, and 422 for the key reused on a different request', async () => {
      const key = `idem-${Date.now()}`;
      const body = { inputs: { name: 'Once' }, grant_ids: [grantId] };
      const first = await ext('POST', `/executions/agents/${greetAgentId}/execute`, token, { body, headers: { 'idempotency-key': key } });
      expect(first.status, JSON.stringify(first.body)).to.equal(202);
      await finished(first.body.execution_id);
      const again = await ext('POST', `/executions/agents/${greetAgentId}/execute`, token, { body, headers: { 'idempotency-key': key } });
      expect(again.status).to.equal(202);
      expect(again.body.execution_id).to.equal(first.body.execution_id);
      expect(again.body.status).to.equal('completed');
      expect(again.headers.get('idempotent-replayed')).to.equal('true');
      expect(exampleApi.received).to.have.length(1);
      const different = await ext('POST', `/executions/agents/${greetAgentId}/execute`, token, { body: { inputs: { name: 'Twice' }, grant_ids: [grantId] }, headers: { 'idempotency-key': key } });
      expect(different.status).to.equal(422);
      expect(different.body.detail).to.match(/Idempotency-Key was used for a different request/);
      // Another app's key space is its own.
      const otherApps = await ext('POST', `/executions/agents/${sleepAgentId}/execute`, otherToken, { body: { inputs: { ms: 0 } }, headers: { 'idempotency-key': key } });
      expect(otherApps.status).to.equal(202);
      expect(otherApps.body.execution_id).to.not.equal(first.body.execution_id);
    });

    it("refuses a webhook_url that is not https or whose host is not among the app's webhook_domains (422), starting nothing", async () => {
      for (const url of ['https://evil.example/hooks', 'http://app.example.com/hooks', 'https://app.example.com.evil.example/x', 'https://hooks.example.com/x', 'not a url']) {
        const res = await ext('POST', `/executions/agents/${greetAgentId}/execute`, token, { body: { inputs: { name: 'Ada' }, webhook_url: url } });
        expect(res.status, `${url}: ${JSON.stringify(res.body)}`).to.equal(422);
        expect(res.body.detail).to.match(/^webhook_url /);
      }
      expect(exampleApi.received).to.deep.equal([]);
      for (const url of ['https://app.example.com/webhooks/blockyard', 'https://eu.hooks.example.com/in']) {
        const ok = await ext('POST', `/executions/agents/${sleepAgentId}/execute`, token, { body: { inputs: { ms: 0 }, webhook_url: url } });
        expect(ok.status, `${url}: ${JSON.stringify(ok.body)}`).to.equal(202);
      }
    });

    it('answers 422 naming the paths for a bad body', async () => {
      const res = await ext('POST', `/executions/agents/${greetAgentId}/execute`, token, { body: { inputs: 'x', grant_ids: 'g' } });
      expect(res.status).to.equal(422);
      expect(res.body.detail).to.contain('/inputs').and.contain('/grant_ids');
    });
  });

  describe('GET /executions/:id and POST /executions/:id/cancel (agents:execute)', () => {
    it('cancels a running execution (then 409)', async () => {
      const started = await ext('POST', `/executions/agents/${sleepAgentId}/execute`, token, { body: { inputs: { ms: 60_000 } } });
      expect(started.status).to.equal(202);
      const cancelled = await ext('POST', `/executions/${started.body.execution_id}/cancel`, token);
      expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
      expect(validators.validate('external-execution-status.schema.json', cancelled.body).ok).to.equal(true);
      expect(cancelled.body.status).to.equal('cancelled');
      expect((await ext('POST', `/executions/${started.body.execution_id}/cancel`, token)).status).to.equal(409);
    });

    it("answers 404 for the user's own /api/v1 executions, another app's and another user's", async () => {
      const own = await request(base, 'POST', `/api/v1/agents/${sleepAgentId}/execute`, { key: annKey, body: { inputs: { ms: 0 } } });
      expect(own.status).to.equal(202);
      const mine = await ext('POST', `/executions/agents/${sleepAgentId}/execute`, token, { body: { inputs: { ms: 0 } } });
      expect((await ext('GET', `/executions/${mine.body.execution_id}`, token)).status).to.equal(200);
      for (const [bearer, id] of [
        [token, own.body.execution_id],
        [otherToken, mine.body.execution_id],
        [bobToken, mine.body.execution_id],
        [token, 'no-such-execution'],
      ] as const) {
        expect((await ext('GET', `/executions/${id}`, bearer)).status).to.equal(404);
        expect((await ext('POST', `/executions/${id}/cancel`, bearer)).status).to.equal(404);
      }
    });
  });

  describe('grants (integrations:list, integrations:delete)', () => {
    it("lists and gets the app's grants from this user only; others' ids are 404", async () => {
      const list = await ext('GET', '/grants/', token);
      expect(list.status).to.equal(200);
      expect(validators.validate('grant-list.schema.json', list.body).ok).to.equal(true);
      expect(list.body.map((g: { grant_id: string }) => g.grant_id)).to.deep.equal([grantId]);
      expect((await ext('GET', '/grants/', listOnlyToken)).body.map((g: { grant_id: string }) => g.grant_id)).to.deep.equal([grantId]);
      const one = await ext('GET', `/grants/${grantId}`, token);
      expect(one.status).to.equal(200);
      expect(validators.validate('grant-body.schema.json', one.body).ok).to.equal(true);
      expect(one.body).to.deep.include({ grant_id: grantId, client_id: app.clientId, credential_id: credentialId, status: 'active', revoked_at: null });
      expect((await ext('GET', `/grants/${otherAppGrantId}`, token)).status).to.equal(404);
      expect((await ext('GET', `/grants/${grantId}`, otherToken)).status).to.equal(404);
      expect((await ext('GET', `/grants/${grantId}`, bobToken)).status).to.equal(404);
      expect((await ext('GET', '/grants/', bobToken)).body).to.deep.equal([]);
      expect((await ext('DELETE', `/grants/${otherAppGrantId}/credential`, token)).status).to.equal(404);
    });

    it('enforces each route\'s scope for app tokens and refuses API keys', async () => {
      const execute = await ext('POST', `/executions/agents/${greetAgentId}/execute`, listOnlyToken, { body: { inputs: { name: 'Ada' } } });
      expect(execute.status).to.equal(403);
      expect(execute.body.detail).to.equal('this access token lacks the agents:execute scope');
      expect(execute.headers.get('www-authenticate')).to.equal('Bearer error="insufficient_scope", scope="agents:execute"');
      expect((await ext('GET', '/executions/capabilities', listOnlyToken)).status).to.equal(403);
      const del = await ext('DELETE', `/grants/${grantId}/credential`, listOnlyToken);
      expect(del.status).to.equal(403);
      expect(del.body.detail).to.contain('integrations:delete');
      const viaKey = await request(base, 'GET', '/api/external/v1/grants/', { key: annKey });
      expect(viaKey.status).to.equal(403);
      expect(viaKey.body.detail).to.contain("app's OAuth access token");
      expect((await ext('GET', '/grants/', 'not-a-token')).status).to.equal(401);
      expect((await request(base, 'GET', '/api/external/v1/grants/')).status).to.equal(401);
      expect(exampleApi.received).to.deep.equal([]);
    });

    it('deletes the credential through a grant: the credential is gone, its grants revoked, and the next execute is refused', async () => {
      const spareGrant = await grantFor(app, otherCredentialId);
      const res = await ext('DELETE', `/grants/${spareGrant}/credential`, token);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(validators.validate('grant-credential-deleted.schema.json', res.body).ok).to.equal(true);
      expect(res.body).to.deep.include({ grant_id: spareGrant, credential_id: otherCredentialId, deleted: true });
      const credentials = await request(base, 'GET', '/api/v1/credentials', { key: annKey });
      expect(credentials.body.map((c: { id: string }) => c.id)).not.to.include(otherCredentialId);
      expect((await ext('GET', `/grants/${spareGrant}`, token)).body).to.deep.include({ status: 'revoked' });
      // The other app's grant on the same credential is revoked too.
      expect((await ext('GET', `/grants/${otherAppGrantId}`, otherToken)).body).to.deep.include({ status: 'revoked' });
      expect((await ext('DELETE', `/grants/${spareGrant}/credential`, token)).status).to.equal(403);
      expectGrantValidationFailed(await ext('POST', `/executions/agents/${ungrantedAgentId}/execute`, token, { body: { inputs: { name: 'Ada' }, grant_ids: [spareGrant] } }));
    });

    it('refuses an execute through a grant the user revoked (403), and lists only live grants by default', async () => {
      const revocable = await grantFor(app, credentialId);
      expect((await request(base, 'DELETE', `/api/v1/grants/${revocable}`, { key: annKey })).status).to.equal(204);
      expectGrantValidationFailed(await ext('POST', `/executions/agents/${greetAgentId}/execute`, token, { body: { inputs: { name: 'Ada' }, grant_ids: [revocable] } }), /is not a live grant/);
      expect((await ext('GET', '/grants/', token)).body.map((g: { grant_id: string }) => g.grant_id)).not.to.include(revocable);
      expect((await ext('GET', '/grants/?include_revoked=true', token)).body.map((g: { grant_id: string }) => g.grant_id)).to.include(revocable);
      expect(exampleApi.received).to.deep.equal([]);
    });

    it("revokes a deleted app's grants", async () => {
      const doomed = await registerApp('Doomed App');
      const doomedGrant = await grantFor(doomed, credentialId);
      expect((await request(base, 'DELETE', `/oauth/clients/${doomed.clientId}`, { key: annKey })).status).to.equal(204);
      const listed = (await request(base, 'GET', '/api/v1/grants', { key: annKey })).body.find((g: { grant_id: string }) => g.grant_id === doomedGrant);
      expect(listed).to.deep.include({ status: 'revoked', client_name: null });
    });
  });

  describe('GET /external-api/v1/blocks (the API guide\'s path)', () => {
    it('lists the blocks for an API key and for a bearer token holding READ_BLOCK; 403 without it', async () => {
      const viaKey = await request(base, 'GET', '/external-api/v1/blocks', { key: annKey });
      expect(viaKey.status).to.equal(200);
      expect(validators.validate('block-list.schema.json', viaKey.body).ok).to.equal(true);
      expect(viaKey.body.map((b: { id: string }) => b.id)).to.include.members(['example.echo', 'example.greet']);
      const bearerKey = await request(base, 'GET', '/external-api/v1/blocks', { headers: { authorization: `Bearer ${annKey}` } });
      expect(bearerKey.body).to.deep.equal(viaKey.body);
      const readBlockToken = await tokenFor(app, ANN, 'READ_BLOCK');
      const viaToken = await request(base, 'GET', '/external-api/v1/blocks', { headers: { authorization: `Bearer ${readBlockToken}` } });
      expect(viaToken.status).to.equal(200);
      expect(viaToken.body).to.deep.equal(viaKey.body);
      const without = await request(base, 'GET', '/external-api/v1/blocks', { headers: { authorization: `Bearer ${token}` } });
      expect(without.status).to.equal(403);
      expect(without.body.detail).to.contain('READ_BLOCK');
      expect((await request(base, 'GET', '/external-api/v1/blocks', { key: bobKey })).status).to.equal(403);
    });
  });
});
