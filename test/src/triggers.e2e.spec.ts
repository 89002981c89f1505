// Triggers and inbound webhooks against the real server and the local GitHub stand-in: an
// agent with a github.issue_event trigger is activated (the server registers a hook at the
// stand-in), the stand-in delivers signed `issues` events, and each starts one execution whose
// trigger yields the event; signatures, unknown ids, body size, event filters, redeliveries,
// deactivation, agent deletion and manual mode.
import { createHmac, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { ExecutionRepository, type Execution } from '@blockyard/core';
import { composeBlockyard, readConfig } from '@blockyard/server';
import { createKey } from './support/cli.js';
import { pollExecution, request } from './support/http.js';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { startGitHubApi, type GitHubApiStandIn, type HookDelivery } from './support/stand-ins/github-api.js';

const validators = new ContractValidators();
const TOKEN = 'ghp_user-token-for-hooks';
const REPO = 'octo/hello-world';
const BODY_LIMIT = 64 * 1024;

/** The trigger fires on issues of octo/hello-world; its event and action are the agent's outputs. */
const triggerGraph = (credentialId: string) => ({
  nodes: [
    { id: 'on-issue', kind: 'block', block_id: 'github.issue_event', inputs: { owner: 'octo', repo: 'hello-world' }, credentials: { credentials: credentialId } },
    { id: 'title', kind: 'output', name: 'event', schema: { type: 'object' } },
    { id: 'action', kind: 'output', name: 'action', schema: { type: 'string' } },
  ],
  links: [
    { source_node_id: 'on-issue', source_output: 'event', sink_node_id: 'title', sink_input: 'value' },
    { source_node_id: 'on-issue', source_output: 'action', sink_node_id: 'action', sink_input: 'value' },
  ],
});

describe('triggers and inbound webhooks over HTTP (GitHub stand-in)', function () {
  this.timeout(90_000);
  let github: GitHubApiStandIn;
  let server: ServerProcess;
  let base: string;
  let dataDir: string;
  let key: string;
  let credentialId: string;
  /** Secrets and signatures that must never show up in the server's output. */
  const secrets: string[] = [TOKEN];

  before(async () => {
    github = await startGitHubApi({ token: TOKEN, pingOnCreate: true });
    dataDir = makeDataDir();
    key = await createKey(['READ_GRAPH', 'WRITE_GRAPH', 'READ_INTEGRATIONS', 'MANAGE_INTEGRATIONS', 'RUN_AGENT', 'READ_RUN'], { BLOCKYARD_DATA_DIR: dataDir });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startServerProcess(
      {
        PORT: String(port),
        BLOCKYARD_PUBLIC_URL: base,
        BLOCKYARD_PROVIDER_BASE_URLS: `github=${github.url}`,
        BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
        BLOCKYARD_WEBHOOK_BODY_LIMIT_BYTES: String(BODY_LIMIT),
      },
      dataDir,
    );
    expect(server.url).to.equal(base);
    const credential = await call('POST', '/api/v1/credentials', { provider: 'github', kind: 'api_key', title: 'hooks', scopes: ['github:repo.write'], secret: { api_key: TOKEN } });
    expect(credential.status, JSON.stringify(credential.body)).to.equal(201);
    credentialId = credential.body.id;
    // An issue for the events to be about, created through the stand-in's API.
    const issue = await fetch(`${github.url}/repos/${REPO}/issues`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Webhooks are flaky', body: 'Sometimes.' }) });
    expect(issue.status).to.equal(201);
  });

  after(async () => {
    await server?.stop();
    await github?.close();
    removeDataDir(dataDir);
  });

  const call = (method: string, path: string, body?: unknown) => request(server.url, method, path, { key, body });
  const hooks = () => github.repositories.get(REPO)!.hooks;

  async function createAgent(name: string, graph: unknown = triggerGraph(credentialId)): Promise<string> {
    const res = await call('POST', '/api/v1/agents', { name, ...(graph as object) });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id;
  }

  /** The agent's executions, read from the server's database. */
  async function executionsOf(agentId: string): Promise<Execution[]> {
    const reader = await composeBlockyard(readConfig({ BLOCKYARD_DATA_DIR: dataDir }), { loadPlugins: false });
    try {
      const all = await reader.container.get<ExecutionRepository>(ExecutionRepository).listByStatus(['queued', 'running', 'completed', 'failed', 'cancelled'], 10_000);
      return all.filter((e) => e.agent?.id === agentId);
    } finally {
      await reader.close();
    }
  }

  /** A delivery signed with `secret` as GitHub signs (X-Hub-Signature-256 over the exact body). */
  function signedDelivery(path: string, event: string, body: string, secret: string, extra: Record<string, string> = {}) {
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    secrets.push(signature);
    return request(base, 'POST', path, { raw: body, headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature, ...extra } });
  }

  describe('auto mode', () => {
    let agentId: string;
    let webhookId: string;
    let path: string;
    let first: HookDelivery;
    let firstExecution: string;

    before(async () => {
      agentId = await createAgent('Triage issues');
    });

    it('activates: registers a hook at GitHub with our URL and a new secret, answered without the secret', async () => {
      const res = await call('POST', `/api/v1/agents/${agentId}/activate`, {});
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(validators.validate('webhook-body.schema.json', res.body).ok).to.equal(true);
      webhookId = res.body.webhook_id;
      path = `/webhooks/github/${webhookId}`;
      expect(res.body).to.deep.include({ agent_id: agentId, trigger_node_id: 'on-issue', block_id: 'github.issue_event', provider: 'github', mode: 'auto', events: ['issues'], url: `${base}${path}`, status: 'active' });
      expect(res.body).not.to.have.property('secret');
      expect(hooks()).to.have.length(1);
      const hook = hooks()[0]!;
      expect(res.body.external_id).to.equal(String(hook.id));
      expect(hook).to.deep.include({ name: 'web', active: true, events: ['issues'] });
      expect(hook.config).to.deep.include({ url: `${base}${path}`, content_type: 'json' });
      expect(hook.secret).to.be.a('string').with.length.greaterThan(30);
      secrets.push(hook.secret as string);
      expect(JSON.stringify(res.body)).not.to.contain(hook.secret);
      const registered = github.requests.find((r) => r.method === 'POST' && r.path === `/repos/${REPO}/hooks`)!;
      expect(registered.headers.authorization).to.equal(`Bearer ${TOKEN}`);
      const shown = await call('GET', `/api/v1/agents/${agentId}/webhook`);
      expect(shown.status).to.equal(200);
      expect(shown.body).to.deep.include({ webhook_id: webhookId, status: 'active', external_id: String(hook.id) });
      expect(shown.body).not.to.have.property('secret');
    });

    it("answers GitHub's ping (sent on creating the hook) with 200, starting nothing", async () => {
      const deadline = Date.now() + 10_000;
      while (!github.deliveries.some((d) => d.event === 'ping' && d.status !== 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const ping = github.deliveries.find((d) => d.event === 'ping')!;
      expect(ping.url).to.equal(`${base}${path}`);
      expect(ping.status).to.equal(200);
      expect(ping.response).to.deep.equal({ status: 'pong' });
      expect(await executionsOf(agentId)).to.deep.equal([]);
    });

    it('starts one execution for a signed issues event, the payload flowing through the trigger block', async () => {
      [first] = await github.deliverIssueEvent(REPO, 'opened', 1);
      expect(first!.status, JSON.stringify(first!.response)).to.equal(202);
      expect(validators.validate('webhook-ingress-result.schema.json', first!.response).ok).to.equal(true);
      const response = first!.response as { status: string; execution_ids: string[] };
      expect(response.status).to.equal('accepted');
      expect(response.execution_ids).to.have.length(1);
      firstExecution = response.execution_ids[0]!;
      const done = await pollExecution(base, key, firstExecution, ['completed', 'failed']);
      expect(done.status, done.error).to.equal('completed');
      expect(done.agent_id).to.equal(agentId);
      expect(done.outputs.action).to.deep.equal(['opened']);
      expect(done.outputs.event[0]).to.deep.include({ action: 'opened', repository: REPO, sender: 'octo' });
      expect(done.outputs.event[0].issue).to.deep.include({ number: 1, title: 'Webhooks are flaky', state: 'open' });
      const trigger = (done.nodes as Array<{ node_id: string; inputs: Record<string, unknown> }>).find((n) => n.node_id === 'on-issue')!;
      expect((trigger.inputs.payload as { action: string }).action).to.equal('opened');
      expect(trigger.inputs).to.deep.include({ owner: 'octo', repo: 'hello-world' });
      expect((await executionsOf(agentId)).map((e) => e.id)).to.deep.equal([firstExecution]);
    });

    it('starts no second execution for a redelivery of the same X-GitHub-Delivery', async () => {
      const again = await github.redeliver(first);
      expect(again.status).to.equal(200);
      expect(again.response).to.deep.equal({ status: 'duplicate', execution_id: firstExecution });
      expect((await executionsOf(agentId)).map((e) => e.id)).to.deep.equal([firstExecution]);
    });

    it('refuses a bad or missing signature with 401, starting nothing', async () => {
      const [wrong] = await github.deliverIssueEvent(REPO, 'edited', 1, { sign: 'not-the-hook-secret' });
      expect(wrong!.status).to.equal(401);
      expect(wrong!.response).to.deep.equal({ detail: 'missing or invalid webhook signature' });
      const [unsigned] = await github.deliverIssueEvent(REPO, 'edited', 1, { sign: null });
      expect(unsigned!.status).to.equal(401);
      // A body changed after signing.
      const tampered = await request(base, 'POST', path, { raw: first.body.replace('"opened"', '"closed"'), headers: { ...first.headers, 'x-github-delivery': randomUUID() } });
      expect(tampered.status).to.equal(401);
      expect((await executionsOf(agentId)).map((e) => e.id)).to.deep.equal([firstExecution]);
    });

    it('answers 404 for an unknown webhook id, or a known id under another provider', async () => {
      const unknown = await signedDelivery('/webhooks/github/no-such-webhook', 'issues', first.body, hooks()[0]!.secret as string);
      expect(unknown.status).to.equal(404);
      expect(unknown.body).to.have.property('detail');
      const otherProvider = await request(base, 'POST', `/webhooks/slack/${webhookId}`, { raw: first.body, headers: first.headers });
      expect(otherProvider.status).to.equal(404);
    });

    it('answers 413 for a body over the configured limit', async () => {
      const big = JSON.stringify({ action: 'opened', filler: 'x'.repeat(BODY_LIMIT + 1) });
      const res = await signedDelivery(path, 'issues', big, hooks()[0]!.secret as string);
      expect(res.status).to.equal(413);
      expect(res.body).to.deep.equal({ detail: 'request body is too large' });
    });

    it('answers 202 ignored for an event the trigger does not listen to, starting nothing', async () => {
      const comment = JSON.stringify({ action: 'created', issue: { number: 1 }, comment: { body: 'me too' } });
      const res = await signedDelivery(path, 'issue_comment', comment, hooks()[0]!.secret as string);
      expect(res.status).to.equal(202);
      expect(res.body.status).to.equal('ignored');
      expect(res.body.detail).to.contain('issue_comment');
      expect((await executionsOf(agentId)).map((e) => e.id)).to.deep.equal([firstExecution]);
    });

    it('refuses to activate an active agent again (409)', async () => {
      const res = await call('POST', `/api/v1/agents/${agentId}/activate`, {});
      expect(res.status).to.equal(409);
      expect(hooks()).to.have.length(1);
    });

    it('deactivates: deletes the hook at GitHub, and later deliveries are 404', async () => {
      const hookId = hooks()[0]!.id;
      const res = await call('POST', `/api/v1/agents/${agentId}/deactivate`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(validators.validate('webhook-deactivated.schema.json', res.body).ok).to.equal(true);
      expect(res.body).to.deep.equal({ webhook_id: webhookId, agent_id: agentId, deactivated: true, deregistered: true });
      expect(hooks()).to.deep.equal([]);
      expect(github.requests.at(-1)).to.include({ method: 'DELETE', path: `/repos/${REPO}/hooks/${hookId}` });
      const later = await github.redeliver(first);
      expect(later.status).to.equal(404);
      expect((await call('GET', `/api/v1/agents/${agentId}/webhook`)).status).to.equal(404);
      expect((await call('POST', `/api/v1/agents/${agentId}/deactivate`)).status).to.equal(409);
    });
  });

  describe('manual mode', () => {
    let agentId: string;
    let secret: string;
    let url: string;

    it('answers the URL and a secret once; the webhook shows no secret afterwards and is stored sealed', async () => {
      agentId = await createAgent('Manual triage');
      const res = await call('POST', `/api/v1/agents/${agentId}/activate`, { mode: 'manual' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(validators.validate('webhook-body.schema.json', res.body).ok).to.equal(true);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.body).to.deep.include({ mode: 'manual', events: ['issues'], status: 'active', external_id: null });
      expect(res.body.url).to.equal(`${base}/webhooks/github/${res.body.webhook_id}`);
      secret = res.body.secret;
      url = res.body.url;
      expect(secret).to.be.a('string').with.length.greaterThan(30);
      secrets.push(secret);
      expect(hooks()).to.deep.equal([]);
      const shown = await call('GET', `/api/v1/agents/${agentId}/webhook`);
      expect(shown.body).not.to.have.property('secret');
      for (const file of readdirSync(dataDir).filter((f) => f.startsWith('blockyard.sqlite'))) {
        expect(readFileSync(join(dataDir, file)).includes(Buffer.from(secret)), file).to.equal(false);
      }
    });

    it('starts an execution for a delivery signed with that secret, and refuses another secret', async () => {
      // Pretty-printed, with an escaped non-ASCII character: the signature is over these exact bytes.
      const payload = JSON.stringify({ action: 'closed', issue: github.repositories.get(REPO)!.issues[0], repository: { full_name: REPO }, sender: { login: 'hubot' } }, null, 2).replace('"hubot"', '"hub\\u00f6t"');
      const path = new URL(url).pathname;
      expect((await signedDelivery(path, 'issues', payload, 'some-other-secret')).status).to.equal(401);
      const res = await signedDelivery(path, 'issues', payload, secret);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body.status).to.equal('accepted');
      const done = await pollExecution(base, key, res.body.execution_ids[0], ['completed', 'failed']);
      expect(done.status, done.error).to.equal('completed');
      expect(done.outputs.action).to.deep.equal(['closed']);
      expect(done.outputs.event[0]).to.deep.include({ action: 'closed', sender: 'huböt' });
    });

    it('deactivates with nothing to deregister at the provider', async () => {
      const res = await call('POST', `/api/v1/agents/${agentId}/deactivate`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({ deactivated: true, deregistered: null });
    });
  });

  describe('activation problems and agent deletion', () => {
    it('refuses an agent without a trigger, naming why (422)', async () => {
      const agentId = await createAgent('No trigger', {
        nodes: [
          { id: 'in', kind: 'input', name: 'text', schema: { type: 'string' }, required: false, default: 'x' },
          { id: 'echo', kind: 'block', block_id: 'example.echo' },
        ],
        links: [{ source_node_id: 'in', source_output: 'value', sink_node_id: 'echo', sink_input: 'text' }],
      });
      const res = await call('POST', `/api/v1/agents/${agentId}/activate`, {});
      expect(res.status).to.equal(422);
      expect(res.body.detail).to.equal(`agent ${agentId} has no trigger node: add a trigger block (e.g. github.issue_event) to activate it`);
    });

    it('refuses an agent with two triggers, naming them (422)', async () => {
      const graph = triggerGraph(credentialId);
      graph.nodes.push({ id: 'also-on-issue', kind: 'block', block_id: 'github.issue_event', inputs: { owner: 'octo', repo: 'hello-world' }, credentials: { credentials: credentialId } });
      const agentId = await createAgent('Two triggers', graph);
      const res = await call('POST', `/api/v1/agents/${agentId}/activate`, {});
      expect(res.status).to.equal(422);
      expect(res.body.detail).to.equal(`agent ${agentId} has 2 trigger nodes ("on-issue", "also-on-issue"): an agent is activated through exactly one`);
    });

    it('reports what GitHub said when registering fails, and stays inactive (422)', async () => {
      const agentId = await createAgent('Missing repository');
      const res = await call('POST', `/api/v1/agents/${agentId}/activate`, { config: { repo: 'no-such-repo' } });
      expect(res.status).to.equal(422);
      expect(res.body.detail).to.equal(`activating agent ${agentId} at github failed: cannot register the webhook: GitHub: repository octo/no-such-repo not found (404), or the credential cannot see it`);
      expect((await call('GET', `/api/v1/agents/${agentId}/webhook`)).status).to.equal(404);
    });

    it('deleting an active agent removes its hook at GitHub; its URL then answers 404', async () => {
      const agentId = await createAgent('Deleted while active');
      const activated = await call('POST', `/api/v1/agents/${agentId}/activate`, {});
      expect(activated.status).to.equal(201);
      expect(hooks()).to.have.length(1);
      const secret = hooks()[0]!.secret as string;
      secrets.push(secret);
      expect((await call('DELETE', `/api/v1/agents/${agentId}`)).status).to.equal(204);
      expect(hooks()).to.deep.equal([]);
      const res = await signedDelivery(new URL(activated.body.url).pathname, 'issues', JSON.stringify({ action: 'opened' }), secret);
      expect(res.status).to.equal(404);
    });
  });

  describe('afterwards', () => {
    it('never wrote a secret or a signature to its output', () => {
      const output = server.output();
      expect(output).to.contain('webhook delivery started an execution');
      expect(output).to.contain('webhook delivery refused: bad or missing signature');
      for (const secret of secrets) expect(output, 'a secret or signature in the server output').not.to.contain(secret);
      for (const delivery of github.deliveries) {
        for (const header of ['x-hub-signature-256', 'x-hub-signature']) if (delivery.headers[header]) expect(output).not.to.contain(delivery.headers[header]!);
      }
    });
  });
});
