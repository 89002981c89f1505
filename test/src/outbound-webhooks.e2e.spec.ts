// Outbound webhooks against a real server process: an app executes agents through the external
// API with a webhook_url on a local receiver (127.0.0.1, allowed through
// BLOCKYARD_OUTBOUND_ALLOW_HOSTS), which verifies every delivery with both schemes exactly as a
// client would: the external API guide's code, and Standard Webhooks' reference library. Then
// retries after a 500, 410 Gone, the owner's delivery listing, and a crash in the middle.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { ContractValidators } from '@blockyard/contracts';
import { createFullKey } from './support/cli.js';
import { request } from './support/http.js';
import { Browser, createUser, OAuthApp } from './support/oauth-flow.js';
import { connectWithCredential } from './support/connect-flow.js';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { waitFor } from './support/wait-for.js';

const validators = new ContractValidators();
const ANN = { email: 'ann@example.org', password: 'Ann-webhooks-pässword-1234' };
const REDIRECT = 'https://app.example.com/oauth/callback';

/** topic -> echo -> text, and pause -> sleep beside it (so an execution can be made to last). */
const graph = {
  name: 'echo with a pause',
  nodes: [
    { id: 'topic', kind: 'input', name: 'topic', schema: { type: 'string' }, required: true },
    { id: 'pause', kind: 'input', name: 'pause', schema: { type: 'integer' }, required: false, default: 0 },
    { id: 'echo', kind: 'block', block_id: 'example.echo' },
    { id: 'sleep', kind: 'block', block_id: 'example.sleep' },
    { id: 'text', kind: 'output', name: 'text', schema: { type: 'string' } },
  ],
  links: [
    { source_node_id: 'topic', source_output: 'value', sink_node_id: 'echo', sink_input: 'text' },
    { source_node_id: 'echo', source_output: 'text', sink_node_id: 'text', sink_input: 'value' },
    { source_node_id: 'pause', source_output: 'value', sink_node_id: 'sleep', sink_input: 'ms' },
  ],
};

interface Received {
  path: string;
  raw: string;
  headers: IncomingHttpHeaders;
  body: { event: string; timestamp: string; data: Record<string, any> };
  /** What the receiver answered. */
  status: number;
}

/**
 * The app's webhook endpoint. It checks each request as the guide's handler does (the HMAC of
 * JSON.stringify(req.body), the body parsed as express.json() parses it) and as Standard
 * Webhooks' library does (the raw body and the webhook-* headers), and answers 401 to a request
 * failing either; otherwise what `answer` says for its path.
 */
class Receiver {
  readonly received: Received[] = [];
  readonly failures: string[] = [];
  answer: (path: string, seenBefore: number) => number = () => 200;
  secret = '';
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => {
        const problem = this.verify(raw, req.headers);
        const path = req.url ?? '';
        if (problem) {
          this.failures.push(problem);
          res.writeHead(401).end('Invalid signature');
          return;
        }
        const body = JSON.parse(raw) as Received['body'];
        const seenBefore = this.received.filter((r) => r.headers['webhook-id'] === req.headers['webhook-id']).length;
        const status = this.answer(path, seenBefore);
        this.received.push({ path, raw, headers: req.headers, body, status });
        res.writeHead(status).end(status === 200 ? 'OK' : '');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private verify(raw: string, headers: IncomingHttpHeaders): string | null {
    // The guide, verbatim but for the framework: req.body is the parsed JSON.
    const reqBody = JSON.parse(raw) as unknown;
    const signature = headers['x-webhook-signature'];
    if (!signature) return 'no X-Webhook-Signature';
    const expectedSignature = createHmac('sha256', this.secret).update(JSON.stringify(reqBody)).digest('hex');
    if (signature !== `sha256=${expectedSignature}`) return `guide signature mismatch: ${String(signature)}`;
    if (headers['x-webhook-timestamp'] !== (reqBody as { timestamp?: string }).timestamp) return 'X-Webhook-Timestamp is not the body timestamp';
    // Standard Webhooks' reference library takes the secret as the client was given it.
    try {
      new Webhook(this.secret).verify(raw, headers as Record<string, string>);
    } catch (e) {
      return `Standard Webhooks verification failed: ${(e as Error).message}`;
    }
    return null;
  }

  /** The deliveries of one execution at `path`, 2xx-answered ones only unless `all`. */
  of(executionId: string, options: { all?: boolean } = {}): Received[] {
    return this.received.filter((r) => r.body.data.execution_id === executionId && (options.all || r.status === 200));
  }
}

describe('outbound webhooks end to end', function () {
  this.timeout(120_000);
  let dataDir: string;
  let port: number;
  let base: string;
  let server: ServerProcess;
  let key: string;
  let clientId: string;
  let accessToken: string;
  let agentId: string;
  const receiver = new Receiver();

  const serverEnv = () => ({
    PORT: String(port),
    BLOCKYARD_PUBLIC_URL: base,
    BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
    BLOCKYARD_OUTBOUND_WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,1s,1s,2s,2s,3s,3s',
    BLOCKYARD_OUTBOUND_WEBHOOK_POLL_MS: '100',
    BLOCKYARD_OUTBOUND_WEBHOOK_TIMEOUT_MS: '1000',
    BLOCKYARD_OUTBOUND_WEBHOOK_RECONCILE_MS: '500',
  });

  /** POST /api/external/v1/executions/agents/:id/execute with the app's token, as the guide's executeAgent does. */
  async function execute(webhookPath: string, inputs: Record<string, unknown> = { topic: 'hello' }): Promise<string> {
    const res = await fetch(`${base}/api/external/v1/executions/agents/${agentId}/execute`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs, grant_ids: null, webhook_url: `${receiver.url}${webhookPath}` }),
    });
    const body = (await res.json()) as { execution_id: string; status: string; detail?: string };
    expect(res.status, JSON.stringify(body)).to.equal(202);
    return body.execution_id;
  }

  async function deliveries(query = ''): Promise<Array<Record<string, any>>> {
    const res = await request(base, 'GET', `/oauth/clients/${clientId}/webhook-deliveries${query}`, { key });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(validators.validate('client-webhook-delivery-list.schema.json', res.body).ok).to.equal(true);
    return res.body.deliveries;
  }

  before(async () => {
    await receiver.start();
    dataDir = makeDataDir();
    const env = { BLOCKYARD_DATA_DIR: dataDir };
    await createUser(ANN.email, 'Ann Example', ANN.password, env);
    // Client management with a key needs a full-access key (every scope).
    key = await createFullKey(env);
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startServerProcess(serverEnv(), dataDir);

    const registered = await request(base, 'POST', '/oauth/clients/', {
      key,
      body: { name: 'Webhook App', client_type: 'confidential', redirect_uris: [REDIRECT], webhook_domains: ['127.0.0.1'] },
    });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    clientId = registered.body.client_id;
    receiver.secret = registered.body.webhook_secret;
    const app = new OAuthApp(base, clientId, registered.body.client_secret, REDIRECT);
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    const { code, verifier } = await app.authorize(browser, { scope: 'openid agents:execute integrations:connect' });
    const tokens = await app.exchange(code!, verifier);
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    accessToken = tokens.body.access_token;

    const agent = await request(base, 'POST', '/api/v1/agents', { key, body: graph });
    expect(agent.status, JSON.stringify(agent.body)).to.equal(201);
    agentId = agent.body.id;
  });

  after(async () => {
    await server?.stop();
    await receiver.stop();
    if (dataDir) removeDataDir(dataDir);
  });

  afterEach(() => {
    expect(receiver.failures, 'every delivery verified with both schemes').to.deep.equal([]);
  });

  it('sends execution.started and execution.completed, signed both ways, for an execution with a webhook_url', async () => {
    receiver.answer = () => 200;
    const id = await execute('/ok');
    const [started, completed] = await waitFor('both events', () => {
      const got = receiver.of(id);
      const s = got.find((r) => r.body.event === 'execution.started');
      const c = got.find((r) => r.body.event === 'execution.completed');
      return s && c ? [s, c] : null;
    });
    expect(started.path).to.equal('/ok');
    expect(started.body.data).to.deep.include({ execution_id: id, agent_id: agentId, status: 'running' });
    expect(completed.body.data).to.deep.include({ execution_id: id, agent_id: agentId, status: 'completed' });
    // The outputs are those the status endpoint shows.
    const status = await fetch(`${base}/api/external/v1/executions/${id}`, { headers: { Authorization: `Bearer ${accessToken}` } });
    const shown = (await status.json()) as Record<string, any>;
    expect(shown.status).to.equal('completed');
    expect(completed.body.data.outputs).to.deep.equal(shown.outputs);
    expect(completed.body.data.outputs).to.deep.equal({ text: ['hello'] });
    expect(completed.body.timestamp).to.equal(shown.completed_at);
    expect(started.body.timestamp).to.equal(shown.started_at);
    for (const r of [started, completed]) {
      expect(r.headers['content-type']).to.equal('application/json');
      expect(r.headers['webhook-id']).to.match(/^msg_[0-9a-f]{32}$/);
      expect(validators.validate('client-webhook-event.schema.json', r.body).ok, r.raw).to.equal(true);
    }
    expect(started.headers['webhook-id']).to.not.equal(completed.headers['webhook-id']);
    expect(receiver.of(id, { all: true })).to.have.length(2);

    const listed = await waitFor('both listed delivered', async () => {
      const rows = (await deliveries()).filter((d) => d.id === started.headers['webhook-id'] || d.id === completed.headers['webhook-id']);
      return rows.length === 2 && rows.every((d) => d.status === 'delivered') ? rows : null;
    });
    for (const d of listed) expect(d).to.include({ url: `${receiver.url}/ok`, attempts: 1, last_status: 200, last_error: null, max_attempts: 9 });
    expect(JSON.stringify(listed)).to.not.contain(receiver.secret);
  });

  it('retries after a 500 and delivers the same webhook-id', async () => {
    receiver.answer = (path, seenBefore) => (path === '/flaky' && seenBefore === 0 ? 500 : 200);
    const id = await execute('/flaky');
    await waitFor('both events delivered after a retry', () => receiver.of(id).length === 2);
    const all = receiver.of(id, { all: true });
    expect(all.map((r) => r.status).sort()).to.deep.equal([200, 200, 500, 500]);
    for (const event of ['execution.started', 'execution.completed']) {
      const tries = all.filter((r) => r.body.event === event);
      expect(tries.map((r) => r.status)).to.deep.equal([500, 200]);
      expect(tries[0]!.headers['webhook-id']).to.equal(tries[1]!.headers['webhook-id']);
      expect(tries[0]!.raw).to.equal(tries[1]!.raw);
    }
    const rows = await waitFor('listed as delivered on the 2nd attempt', async () => {
      const ids = new Set(all.map((r) => r.headers['webhook-id']));
      const got = (await deliveries()).filter((d) => ids.has(d.id));
      return got.length === 2 && got.every((d) => d.status === 'delivered') ? got : null;
    });
    for (const d of rows) expect(d).to.include({ attempts: 2, last_status: 200 });
  });

  it('disables an endpoint that answers 410: the later events of the execution are not sent there', async () => {
    receiver.answer = (path) => (path === '/gone' ? 410 : 200);
    const id = await execute('/gone', { topic: 'bye', pause: 1500 });
    await waitFor('the 410', () => receiver.of(id, { all: true }).length === 1);
    const done = await waitFor('the execution to finish', async () => {
      const res = await fetch(`${base}/api/external/v1/executions/${id}`, { headers: { Authorization: `Bearer ${accessToken}` } });
      const body = (await res.json()) as Record<string, any>;
      return body.status === 'completed' ? body : null;
    });
    expect(done.status).to.equal('completed');
    const rows = await waitFor('both listed disabled', async () => {
      const got = (await deliveries()).filter((d) => d.url === `${receiver.url}/gone`);
      return got.length === 2 && got.every((d) => d.status === 'disabled') ? got : null;
    });
    const byEvent = Object.fromEntries(rows.map((d) => [d.event, d]));
    expect(byEvent['execution.started']).to.include({ attempts: 1, last_status: 410 });
    expect(byEvent['execution.completed']).to.include({ attempts: 0, last_status: null });
    await new Promise((r) => setTimeout(r, 700)); // longer than a retry would wait
    expect(receiver.of(id, { all: true }).map((r) => [r.body.event, r.status])).to.deep.equal([['execution.started', 410]]);
    expect((await deliveries('?status=disabled')).map((d) => d.id)).to.include.members(rows.map((d) => d.id));
  });

  it("lists deliveries for the client's owner only, with clear errors", async () => {
    const unknown = await request(base, 'GET', '/oauth/clients/app_unknown/webhook-deliveries', { key });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.detail).to.be.a('string');
    const anonymous = await request(base, 'GET', `/oauth/clients/${clientId}/webhook-deliveries`);
    expect(anonymous.status).to.equal(401);
    const appToken = await fetch(`${base}/oauth/clients/${clientId}/webhook-deliveries`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(appToken.status).to.equal(403);
    for (const bad of ['?limit=0', '?limit=abc', '?status=lost', '?before=msg_unknown']) {
      const res = await request(base, 'GET', `/oauth/clients/${clientId}/webhook-deliveries${bad}`, { key });
      expect(res.status, bad).to.equal(422);
      expect(res.body.detail, bad).to.be.a('string');
    }
    const page = await request(base, 'GET', `/oauth/clients/${clientId}/webhook-deliveries?limit=1`, { key });
    expect(page.body.deliveries).to.have.length(1);
    const next = await request(base, 'GET', `/oauth/clients/${clientId}/webhook-deliveries?limit=1&before=${page.body.next_before}`, { key });
    expect(next.body.deliveries).to.have.length(1);
    expect(next.body.deliveries[0].id).to.not.equal(page.body.deliveries[0].id);
  });

  it('refuses a webhook_url outside the webhook domains with 422, starting nothing', async () => {
    const res = await fetch(`${base}/api/external/v1/executions/agents/${agentId}/execute`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: { topic: 'x' }, webhook_url: `http://localhost:${new URL(receiver.url).port}/ok` }),
    });
    expect(res.status).to.equal(422);
    expect(((await res.json()) as { detail: string }).detail).to.contain('webhook_domains');
  });

  it("sends grant.revoked to the app's endpoints that are not disabled when the user revokes a grant", async () => {
    receiver.answer = () => 200;
    const credential = await request(base, 'POST', '/api/v1/credentials', { key, body: { provider: 'example', kind: 'api_key', title: 'Example', secret: { api_key: 'webhooks-e2e-key' } } });
    expect(credential.status, JSON.stringify(credential.body)).to.equal(201);
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    const { posted } = await connectWithCredential(browser, 'example', { clientId, scopes: ['example:resources.write'], nonce: 'n-1', redirectOrigin: 'https://app.example.com' }, credential.body.id);
    expect(posted!.message.success, JSON.stringify(posted!.message)).to.equal(true);
    const grantId = posted!.message.grant_id as string;
    const revoked = await request(base, 'DELETE', `/api/v1/grants/${grantId}`, { key });
    expect(revoked.status, JSON.stringify(revoked.body)).to.equal(204);
    const announced = () => receiver.received.filter((r) => r.body.event === 'grant.revoked' && r.body.data.grant_id === grantId);
    await waitFor('grant.revoked at /ok and /flaky', () => announced().length === 2);
    expect(announced().map((r) => r.path).sort()).to.deep.equal(['/flaky', '/ok']); // /gone answered 410: disabled
    for (const r of announced()) {
      expect(r.body.data).to.deep.equal({ grant_id: grantId, provider: 'example', credential_id: credential.body.id, revoked_at: r.body.timestamp });
      expect(validators.validate('client-webhook-event.schema.json', r.body).ok, r.raw).to.equal(true);
    }
    // Revoking again announces nothing more.
    expect((await request(base, 'DELETE', `/api/v1/grants/${grantId}`, { key })).status).to.equal(204);
    await new Promise((r) => setTimeout(r, 500));
    expect(announced()).to.have.length(2);
  });

  it('still delivers after the server crashes in the middle (the outbox is in storage)', async () => {
    let accepting = false;
    receiver.answer = (path) => (path === '/restart' && !accepting ? 503 : 200);
    const id = await execute('/restart');
    await waitFor('a refused attempt of both events', () => {
      const tried = receiver.of(id, { all: true });
      return tried.some((r) => r.body.event === 'execution.completed') && tried.some((r) => r.body.event === 'execution.started');
    });
    // The refused attempts are in the outbox, due for their retry (a first attempt is recorded with its row).
    const attempted = new Set(receiver.of(id, { all: true }).map((r) => r.headers['webhook-id']));
    await waitFor('both refused attempts recorded', async () => {
      const refused = (await deliveries()).filter((d) => attempted.has(d.id) && d.last_status === 503 && d.status === 'pending');
      return refused.length === 2 ? refused : null;
    });
    await server.kill(); // SIGKILL: no shutdown at all
    accepting = true;
    server = await startServerProcess(serverEnv(), dataDir);
    await waitFor('both events delivered by the restarted server', () => receiver.of(id).length === 2, 30_000);
    const delivered = receiver.of(id);
    expect(delivered.map((r) => r.body.event).sort()).to.deep.equal(['execution.completed', 'execution.started']);
    const ids = new Set(delivered.map((r) => r.headers['webhook-id']));
    const rows = await waitFor('listed delivered', async () => {
      const got = (await deliveries()).filter((d) => ids.has(d.id));
      return got.length === 2 && got.every((d) => d.status === 'delivered') ? got : null;
    });
    for (const d of rows) expect(d.attempts).to.be.at.least(2);
  });
});
