import { expect } from 'chai';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey, runBlockyard } from './support/cli.js';
import { pollExecution, request } from './support/http.js';
import { startGitHubApi, type GitHubApiStandIn } from './support/stand-ins/github-api.js';

const TOKEN = 'ghp_rotation_secret_value_789';
const KEY_A = `key-a:${randomBytes(32).toString('base64')}`;
const KEY_B = `key-b:${randomBytes(32).toString('base64')}`;

describe('blockyard secrets rotate (key A -> B while the server runs): credentials and webhook signing secrets', function () {
  this.timeout(120_000);
  let github: GitHubApiStandIn;
  let dataDir: string;
  let apiKey: string;
  let server: ServerProcess | undefined;
  const credentialIds: string[] = [];
  /** The manual-mode webhook of an activated agent, its signing secret sealed under A at first. */
  let agentId: string;
  let webhookId: string;
  let webhookSecret: string;

  const start = async (keys: string) => {
    await server?.stop();
    server = await startServerProcess(
      { BLOCKYARD_ENCRYPTION_KEYS: keys, BLOCKYARD_PROVIDER_BASE_URLS: `github=${github.url}`, BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' },
      dataDir,
    );
    return server;
  };
  const rotate = (keys: string) => runBlockyard(['secrets', 'rotate', '--page-size', '2'], { BLOCKYARD_DATA_DIR: dataDir, BLOCKYARD_ENCRYPTION_KEYS: keys });
  const runWith = (credentialId: string, title: string) => {
    const repo = [...github.repositories.values()][0]!;
    return request(server!.url, 'POST', '/api/v1/blocks/github.create_issue/execute?wait=10', {
      key: apiKey,
      body: { inputs: { owner: repo.owner, repo: repo.name, title, credentials: { id: credentialId } } },
    });
  };
  const expectRunUsedToken = async (credentialId: string, title: string) => {
    const res = await runWith(credentialId, title);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.status, res.body.error).to.equal('completed');
    const sent = github.requests.find((r) => r.method === 'POST' && (r.body as { title?: string })?.title === title);
    expect(sent?.headers.authorization).to.equal(`Bearer ${TOKEN}`);
  };

  /** A GitHub `issues` delivery to the webhook, signed with `secret` over its exact bytes as GitHub signs. */
  const deliver = (action: string, secret = webhookSecret, deliveryId: string = randomUUID()) => {
    const repo = [...github.repositories.values()][0]!;
    const body = JSON.stringify({ action, issue: repo.issues[0], repository: { full_name: `${repo.owner}/${repo.name}` }, sender: { login: 'octo' } });
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    return request(server!.url, 'POST', `/webhooks/github/${webhookId}`, {
      raw: body,
      headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': deliveryId, 'x-hub-signature-256': signature },
    });
  };
  /** A signed delivery is accepted and its execution completes with the event's action. */
  const expectDeliveryStarts = async (action: string, deliveryId?: string) => {
    const res = await deliver(action, webhookSecret, deliveryId);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.status).to.equal('accepted');
    const done = await pollExecution(server!.url, apiKey, res.body.execution_ids[0], ['completed', 'failed']);
    expect(done.status, done.error).to.equal('completed');
    expect(done.agent_id).to.equal(agentId);
    expect(done.outputs.action).to.deep.equal([action]);
  };

  before(async () => {
    github = await startGitHubApi({ token: TOKEN });
    dataDir = makeDataDir();
    apiKey = await createKey(['MANAGE_INTEGRATIONS', 'READ_INTEGRATIONS', 'EXECUTE_BLOCK', 'READ_RUN', 'READ_GRAPH', 'WRITE_GRAPH', 'RUN_AGENT'], {
      BLOCKYARD_DATA_DIR: dataDir,
      BLOCKYARD_ENCRYPTION_KEYS: KEY_A,
    });
  });

  after(async () => {
    await server?.stop();
    await github?.close();
    removeDataDir(dataDir);
  });

  it('creates credentials under key A, and runs use them', async () => {
    await start(KEY_A);
    for (let i = 0; i < 5; i++) {
      const res = await request(server!.url, 'POST', '/api/v1/credentials', {
        key: apiKey,
        body: { provider: 'github', kind: 'api_key', title: `token ${i}`, scopes: ['github:repo.read', 'github:repo.write'], secret: { api_key: TOKEN } },
      });
      expect(res.status).to.equal(201);
      credentialIds.push(res.body.id);
    }
    await expectRunUsedToken(credentialIds[0]!, 'under A');
  });

  it('activates an agent in manual mode under key A, and a delivery signed with its secret starts it', async () => {
    const repo = [...github.repositories.values()][0]!;
    const agent = await request(server!.url, 'POST', '/api/v1/agents', {
      key: apiKey,
      body: {
        name: 'Issues, across a key rotation',
        nodes: [
          { id: 'on-issue', kind: 'block', block_id: 'github.issue_event', inputs: { owner: repo.owner, repo: repo.name }, credentials: { credentials: credentialIds[0] } },
          { id: 'action', kind: 'output', name: 'action', schema: { type: 'string' } },
        ],
        links: [{ source_node_id: 'on-issue', source_output: 'action', sink_node_id: 'action', sink_input: 'value' }],
      },
    });
    expect(agent.status, JSON.stringify(agent.body)).to.equal(201);
    agentId = agent.body.id;
    const activated = await request(server!.url, 'POST', `/api/v1/agents/${agentId}/activate`, { key: apiKey, body: { mode: 'manual' } });
    expect(activated.status, JSON.stringify(activated.body)).to.equal(201);
    expect(activated.body).to.deep.include({ mode: 'manual', status: 'active' });
    webhookId = activated.body.webhook_id;
    webhookSecret = activated.body.secret;
    expect(webhookSecret).to.be.a('string').with.length.greaterThan(30);
    await expectDeliveryStarts('opened');
    expect((await deliver('edited', 'not-the-secret')).status).to.equal(401);
  });

  it('rotates to B while a server with B,A keeps serving runs, printing counts', async () => {
    await start(`${KEY_B},${KEY_A}`);
    const [result, ...runs] = await Promise.all([rotate(`${KEY_B},${KEY_A}`), ...credentialIds.map((id, i) => runWith(id, `during rotation ${i}`))]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('active key key-b: 5 credential(s) scanned, 5 re-encrypted, 0 already current, 0 retried after a concurrent change, 0 deleted meanwhile, 0 failed');
    expect(result.stdout).to.contain('active key key-b: 1 webhook(s) scanned, 1 re-encrypted, 0 already current, 0 retried after a concurrent change, 0 deleted meanwhile, 0 failed');
    for (const run of runs) expect(run.body.status, JSON.stringify(run.body)).to.equal('completed');
    // The server, holding both keys, verifies deliveries with the re-sealed secret as before.
    await expectDeliveryStarts('labeled');

    const again = await rotate(`${KEY_B},${KEY_A}`);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.contain('5 credential(s) scanned, 0 re-encrypted, 5 already current');
    expect(again.stdout).to.contain('1 webhook(s) scanned, 0 re-encrypted, 1 already current');
    expect(result.stdout + result.stderr + again.stdout + again.stderr).not.to.contain(webhookSecret);
  });

  it('restarted with only B, every credential still works', async () => {
    await start(KEY_B);
    for (const [i, id] of credentialIds.entries()) await expectRunUsedToken(id, `only B ${i}`);
  });

  it('restarted with only B, a delivery signed with the secret shown at activation under A is still accepted', async () => {
    await expectDeliveryStarts('closed');
    expect((await deliver('reopened', 'not-the-secret')).status).to.equal(401);
  });

  it('rotating with a ring that lacks the sealing key fails loudly, naming every credential and the webhook, exit 1', async () => {
    const result = await rotate(KEY_A);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain('5 credential(s) scanned, 0 re-encrypted, 0 already current');
    expect(result.stdout).to.contain('1 webhook(s) scanned, 0 re-encrypted, 0 already current');
    for (const id of credentialIds) expect(result.stderr).to.contain(`credential ${id} (sealed with key key-b)`);
    expect(result.stderr).to.contain(`webhook ${webhookId} (sealed with key key-b) was not re-encrypted: the secret of webhook ${webhookId} cannot be decrypted`);
    expect(result.stderr).to.contain('5 credential(s) could not be re-encrypted');
    expect(result.stderr).to.contain(`1 webhook(s) could not be re-encrypted: ${webhookId}`);
    expect(result.stdout + result.stderr).not.to.contain(TOKEN);
    expect(result.stdout + result.stderr).not.to.contain(webhookSecret);
  });

  it('restarted with only A, using a credential fails loudly with its id (never an empty credential)', async () => {
    await start(KEY_A);
    const before = github.requests.length;
    const res = await runWith(credentialIds[1]!, 'only A');
    // Accepted (its metadata checks pass), then the run fails naming the credential and the key.
    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal('failed');
    expect(res.body.error).to.contain(`credential ${credentialIds[1]} cannot be decrypted`).and.to.contain('key-b');
    expect(github.requests.length).to.equal(before);
    // The log line is written before the answer, but reaches us through a pipe: give it a moment.
    for (let i = 0; i < 40 && !server!.output().includes(credentialIds[1]!); i++) await new Promise((r) => setTimeout(r, 50));
    expect(server!.output()).to.contain(credentialIds[1]!);
    expect(server!.output()).not.to.contain(TOKEN);
  });

  it('restarted with only A, a delivery to the webhook fails loudly naming the webhook and the key, recording nothing: its retry under B starts it', async () => {
    const deliveryId = randomUUID();
    const res = await deliver('deleted', webhookSecret, deliveryId);
    expect(res.status).to.equal(500);
    expect(res.body.detail).to.contain(`the secret of webhook ${webhookId} cannot be decrypted`).and.to.contain('key-b');
    expect(res.body).not.to.have.property('execution_ids');
    for (let i = 0; i < 40 && !server!.output().includes(`webhook ${webhookId} cannot be decrypted`); i++) await new Promise((r) => setTimeout(r, 50));
    expect(server!.output()).to.contain(`the secret of webhook ${webhookId} cannot be decrypted`);
    expect(server!.output()).not.to.contain(webhookSecret);
    // The delivery was not recorded (a recorded one would answer "duplicate"): GitHub's retry of
    // it, once the server has B again, starts the agent.
    await start(KEY_B);
    await expectDeliveryStarts('deleted', deliveryId);
  });
});
