// Revoking a grant while an app's agent execution goes through it, against a real server
// process: the app executes an agent whose first node is slow and whose second node calls the
// Example API stand-in with the granted credential; the user revokes the grant at
// /api/v1/grants/:id while the first node runs. The execution ends failed naming the revocation,
// the app is told (execution.failed, grant.revoked), and the stand-in never sees the credential.
// The user's own /api/v1 execution of the same agent still runs with it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { connectWithCredential } from './support/connect-flow.js';
import { startExampleApi, type ExampleApiStandIn } from './support/example-api.js';
import { request, type JsonResponse } from './support/http.js';
import { Browser, OAuthApp, startServerWithUser } from './support/oauth-flow.js';
import { pluginFixture } from './support/plugin-fixtures.js';
import { removeDataDir, type ServerProcess } from './support/server-process.js';
import { waitFor } from './support/wait-for.js';

const ANN = { email: 'ann@example.org', name: 'Ann Example', password: 'Ann-revocation-pässword-2718' };
const EXAMPLE_KEY = 'revocation-e2e-example-key';
const REDIRECT = 'https://app.example.com/oauth/callback';
const APP_SCOPE = 'openid profile agents:execute integrations:list integrations:connect';

/** A plugin with one block, `hold.relay`: waits `ms` (stopping at once when cancelled), then passes `text` on. */
function holdPlugin(): string {
  const manifest = {
    name: 'hold-plugin',
    version: '1.0.0',
    display_name: 'Hold',
    description: 'A slow relay, for end-to-end tests.',
    entry: './index.mjs',
    blocks: [
      {
        id: 'hold.relay',
        name: 'Relay after a pause',
        description: 'Waits ms milliseconds, then yields text.',
        categories: ['developer_tools'],
        kind: 'action',
        input_schema: { type: 'object', additionalProperties: false, required: ['text', 'ms'], properties: { text: { type: 'string', minLength: 1 }, ms: { type: 'integer', minimum: 0 } } },
        output_schema: { type: 'object', properties: { text: { type: 'string', minLength: 1 } } },
        timeout_ms: 120_000,
      },
    ],
  };
  const entry = `
export const handlers = {
  'hold.relay': async function* ({ text, ms }, context) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      context.signal.addEventListener('abort', () => { clearTimeout(timer); reject(new Error('stopped')); }, { once: true });
    });
    yield ['text', text];
  },
};
`;
  return pluginFixture(manifest, entry);
}

/** name, ms -> hold.relay (slow, no credential) -> example.greet (the granted credential) -> count. */
const slowThenGreet = (credentialId: string) => ({
  name: 'slow then greet',
  nodes: [
    { id: 'who', kind: 'input', name: 'name', schema: { type: 'string', minLength: 1 }, required: true },
    { id: 'ms', kind: 'input', name: 'ms', schema: { type: 'integer', minimum: 0 }, required: true },
    { id: 'hold', kind: 'block', block_id: 'hold.relay' },
    { id: 'greet', kind: 'block', block_id: 'example.greet', inputs: { greetings: ['Hello'], is_funny: false }, credentials: { credentials: credentialId } },
    { id: 'count', kind: 'output', name: 'count', schema: { type: 'integer' } },
  ],
  links: [
    { source_node_id: 'who', source_output: 'value', sink_node_id: 'hold', sink_input: 'text' },
    { source_node_id: 'ms', source_output: 'value', sink_node_id: 'hold', sink_input: 'ms' },
    { source_node_id: 'hold', source_output: 'text', sink_node_id: 'greet', sink_input: 'name' },
    { source_node_id: 'greet', source_output: 'greeting_count', sink_node_id: 'count', sink_input: 'value' },
  ],
});

/** The app's webhook endpoint: keeps what it receives (signatures are the outbound webhooks spec's concern). */
class Receiver {
  readonly received: Array<{ event: string; data: Record<string, any> }> = [];
  url = '';
  #server: Server | null = null;
  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => {
        this.received.push(JSON.parse(raw) as { event: string; data: Record<string, any> });
        res.writeHead(200).end('OK');
      });
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((r) => this.#server?.close(r));
  }
}

describe('grant revocation during an external execution, end to end', function () {
  this.timeout(120_000);
  let dataDir: string;
  let exampleApi: ExampleApiStandIn;
  let server: ServerProcess;
  let base: string;
  let annKey: string;
  let token: string;
  let credentialId: string;
  let agentId: string;
  let grantId: string;
  const receiver = new Receiver();

  const ext = <T = any>(method: string, path: string, options: { body?: unknown } = {}): Promise<JsonResponse<T>> =>
    request<T>(base, method, `/api/external/v1${path}`, { ...options, headers: { authorization: `Bearer ${token}` } });
  const usedTheCredential = () => exampleApi.received.filter((r) => r.authorization === `Bearer ${EXAMPLE_KEY}`);

  before(async () => {
    exampleApi = await startExampleApi(EXAMPLE_KEY);
    await receiver.start();
    ({ server, base, dataDir, key: annKey } = await startServerWithUser(ANN, {
      BLOCKYARD_PLUGINS: `@blockyard/plugin-example,${holdPlugin()}`,
      BLOCKYARD_PROVIDER_BASE_URLS: `example=${exampleApi.url}/v1`,
      BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      BLOCKYARD_OUTBOUND_WEBHOOK_POLL_MS: '100',
    }));

    const registered = await request(base, 'POST', '/oauth/clients/', { key: annKey, body: { name: 'Greeting App', redirect_uris: [REDIRECT], webhook_domains: ['127.0.0.1'] } });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    const app = new OAuthApp(base, registered.body.client_id, registered.body.client_secret, REDIRECT);
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    const { code, verifier } = await app.authorize(browser, { scope: APP_SCOPE });
    const exchanged = await app.exchange(code!, verifier);
    expect(exchanged.status, JSON.stringify(exchanged.body)).to.equal(200);
    token = exchanged.body.access_token;

    const credential = await request(base, 'POST', '/api/v1/credentials', { key: annKey, body: { provider: 'example', kind: 'api_key', title: 'Example', secret: { api_key: EXAMPLE_KEY } } });
    expect(credential.status, JSON.stringify(credential.body)).to.equal(201);
    credentialId = credential.body.id;
    const { posted } = await connectWithCredential(browser, 'example', { clientId: app.clientId, scopes: ['example:resources.write'], nonce: 'n-revocation', redirectOrigin: 'https://app.example.com' }, credentialId);
    expect(posted!.message.success, JSON.stringify(posted!.message)).to.equal(true);
    grantId = posted!.message.grant_id as string;

    const agent = await request(base, 'POST', '/api/v1/agents', { key: annKey, body: slowThenGreet(credentialId) });
    expect(agent.status, JSON.stringify(agent.body)).to.equal(201);
    agentId = agent.body.id;
  });

  after(async () => {
    await server?.stop();
    await receiver.stop();
    await exampleApi?.close();
    if (dataDir) removeDataDir(dataDir);
  });

  it('fails the execution, naming the revoked grant, and the second node never uses the credential; the user\'s own execution still does', async () => {
    const started = await ext('POST', `/executions/agents/${agentId}/execute`, { body: { inputs: { name: 'Ada', ms: 30_000 }, grant_ids: [grantId], webhook_url: `${receiver.url}/hooks` } });
    expect(started.status, JSON.stringify(started.body)).to.equal(202);
    const executionId: string = started.body.execution_id;

    // The first node runs; the second waits for its output. The revocation fails the execution at
    // once; were that step lost, the second node would still refuse the credential after the pause.
    await waitFor('the slow node to run', async () => {
      const res = await request(base, 'GET', `/api/v1/executions/${executionId}`, { key: annKey });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return (res.body.nodes as Array<{ node_id: string; status: string }>).some((n) => n.node_id === 'hold' && n.status === 'running');
    });
    const revoked = await request(base, 'DELETE', `/api/v1/grants/${grantId}`, { key: annKey });
    expect(revoked.status, JSON.stringify(revoked.body)).to.equal(204);

    const finished = await waitFor('the execution to end', async () => {
      const res = await ext('GET', `/executions/${executionId}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return ['completed', 'failed', 'cancelled'].includes(res.body.status) ? res.body : null;
    }, 75_000);
    expect(finished.status).to.equal('failed');
    expect(finished.error).to.contain(`grant ${grantId} was revoked`);

    // Its nodes: the slow one was stopped, the one with the credential never ran with it.
    const own = await request(base, 'GET', `/api/v1/executions/${executionId}`, { key: annKey });
    const greet = (own.body.nodes as Array<{ node_id: string; status: string }>).find((n) => n.node_id === 'greet');
    expect(greet?.status ?? 'never created').to.be.oneOf(['never created', 'failed', 'cancelled']);
    expect(usedTheCredential(), 'the stand-in saw the granted credential').to.deep.equal([]);

    // The app is told: execution.failed naming the revocation, and grant.revoked.
    const failedEvent = await waitFor('execution.failed', () => receiver.received.find((r) => r.event === 'execution.failed' && r.data.execution_id === executionId));
    expect(failedEvent.data.error).to.contain(`grant ${grantId} was revoked`);
    await waitFor('grant.revoked', () => receiver.received.find((r) => r.event === 'grant.revoked' && r.data.grant_id === grantId));
    expect(receiver.received.filter((r) => r.event === 'execution.completed')).to.deep.equal([]);

    // The user's own execution of the same agent does not go through the grant.
    const mine = await request(base, 'POST', `/api/v1/agents/${agentId}/execute`, { key: annKey, body: { inputs: { name: 'Me', ms: 0 } } });
    expect(mine.status, JSON.stringify(mine.body)).to.equal(202);
    const mineDone = await waitFor('the own execution to end', async () => {
      const res = await request(base, 'GET', `/api/v1/executions/${mine.body.execution_id}`, { key: annKey });
      return ['completed', 'failed', 'cancelled'].includes(res.body.status) ? res.body : null;
    });
    expect(mineDone.status, JSON.stringify(mineDone.error)).to.equal('completed');
    expect(mineDone.outputs).to.deep.equal({ count: [1] });
    expect(usedTheCredential()).to.have.length(1);
  });

  it('refuses to execute again through the revoked grant (403)', async () => {
    const res = await ext('POST', `/executions/agents/${agentId}/execute`, { body: { inputs: { name: 'Ada', ms: 0 }, grant_ids: [grantId] } });
    expect(res.status, JSON.stringify(res.body)).to.equal(403);
    expect(res.body.detail).to.match(/^Grant validation failed: /);
  });
});
