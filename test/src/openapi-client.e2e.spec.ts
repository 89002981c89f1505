// GET /openapi.json and the generated @blockyard/client against a real server process: the
// document is a valid OpenAPI 3.1 one, the very one the client's types were generated from, and
// the client works for real with an API key (/api/v1, client management) and with an app's
// OAuth access token (/api/external/v1).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createBlockyardClient, type BlockyardClient } from '@blockyard/client';
import { createFullKey } from './support/cli.js';
import { Browser, createUser, OAuthApp } from './support/oauth-flow.js';
import { freePort, makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';

const ANN = { email: 'ann-openapi@example.org', password: 'Ann-openapi-pässword-2024' };
const REDIRECT = 'https://app.example.com/oauth/callback';

describe('GET /openapi.json and @blockyard/client against a real server', function () {
  this.timeout(90_000);
  let dataDir: string;
  let server: ServerProcess;
  let base: string;
  let key: string;
  let ann: BlockyardClient;

  before(async () => {
    dataDir = makeDataDir();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = { BLOCKYARD_DATA_DIR: dataDir };
    await createUser(ANN.email, 'Ann Example', ANN.password, env);
    // Client management with a key needs a full-access key (every scope).
    key = await createFullKey(env);
    server = await startServerProcess({ ...env, PORT: String(port), BLOCKYARD_PUBLIC_URL: base }, dataDir);
    ann = createBlockyardClient({ baseUrl: base, apiKey: key });
  });

  after(async () => {
    await server?.stop();
    if (dataDir) removeDataDir(dataDir);
  });

  it('serves a valid OpenAPI 3.1 document without credentials: the one the client was generated from', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    const served = (await res.json()) as Record<string, any>;
    const result = await new Validator().validate(structuredClone(served));
    expect(result, JSON.stringify(result.errors)).to.deep.include({ valid: true });
    const built = JSON.parse(readFileSync(fileURLToPath(import.meta.resolve('@blockyard/contracts/openapi.json')), 'utf8'));
    expect(served).to.deep.equal(built);
    expect(Object.keys(served.paths)).to.include.members(['/api/v1/blocks/{id}/execute', '/api/external/v1/executions/agents/{agent_id}/execute', '/oauth/clients/']);
    // The client reads it too, with no credentials.
    const { data } = await createBlockyardClient({ baseUrl: base }).GET('/openapi.json');
    expect(data?.openapi).to.equal('3.1.0');
  });

  it('runs a block with an API key: list, execute with ?wait, status, and the errors as { detail }', async () => {
    const blocks = await ann.GET('/api/v1/blocks');
    expect(blocks.response.status).to.equal(200);
    expect(blocks.data!.map((b) => b.id)).to.include('example.echo');

    const run = await ann.POST('/api/v1/blocks/{id}/execute', { params: { path: { id: 'example.echo' }, query: { wait: 10 } }, body: { inputs: { text: 'typed' } } });
    expect(run.response.status, JSON.stringify(run.error)).to.equal(200);
    const execution = run.data as { execution_id: string; status: string; outputs: Record<string, unknown[]> };
    expect(execution).to.deep.include({ status: 'completed', outputs: { text: ['typed'] } });
    const again = await ann.GET('/api/v1/executions/{id}', { params: { path: { id: execution.execution_id } } });
    expect(again.data).to.deep.include({ execution_id: execution.execution_id, block_id: 'example.echo', status: 'completed' });

    const missing = await ann.GET('/api/v1/executions/{id}', { params: { path: { id: 'no-such-execution' } } });
    expect(missing.response.status).to.equal(404);
    expect(missing.error?.detail).to.be.a('string');
    const anonymous = await createBlockyardClient({ baseUrl: base }).GET('/api/v1/blocks');
    expect(anonymous.response.status).to.equal(401);
    const badInputs = await ann.POST('/api/v1/blocks/{id}/execute', { params: { path: { id: 'example.echo' } }, body: { inputs: { text: 42 } } });
    expect(badInputs.response.status).to.equal(422);
    expect(badInputs.error?.detail).to.contain('text');
  });

  it("lets an app act for the user on /api/external/v1 with its access token: capabilities, execute, status, grants", async () => {
    // The user registers the app (client management, with the API key).
    const registered = await ann.POST('/oauth/clients/', { body: { name: 'Typed App', redirect_uris: [REDIRECT] } });
    expect(registered.response.status, JSON.stringify(registered.error)).to.equal(201);
    const { client_id: clientId, client_secret: clientSecret } = registered.data!;
    const listed = await ann.GET('/oauth/clients/');
    expect(listed.data!.map((c) => c.client_id)).to.include(clientId);

    // The app gets a token through authorize + PKCE, as the guide says.
    const oauthApp = new OAuthApp(base, clientId, clientSecret, REDIRECT);
    const browser = new Browser(base);
    await browser.signIn(ANN.email, ANN.password);
    const { code, verifier } = await oauthApp.authorize(browser, { scope: 'agents:execute integrations:list' });
    const tokens = await oauthApp.exchange(code!, verifier);
    expect(tokens.status, JSON.stringify(tokens.body)).to.equal(200);
    const app = createBlockyardClient({ baseUrl: base, accessToken: tokens.body.access_token as string });

    const capabilities = await app.GET('/api/external/v1/executions/capabilities');
    expect(capabilities.response.status, JSON.stringify(capabilities.error)).to.equal(200);
    expect(capabilities.data).to.deep.include({ client_id: clientId, grants: [] });
    expect(capabilities.data!.scopes).to.include.members(['agents:execute', 'integrations:list']);

    const agent = await ann.POST('/api/v1/agents', {
      body: {
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
      },
    });
    expect(agent.response.status, JSON.stringify(agent.error)).to.equal(201);

    const execute = () => app.POST('/api/external/v1/executions/agents/{agent_id}/execute', { params: { path: { agent_id: agent.data!.id }, header: { 'Idempotency-Key': 'typed-1' } }, body: { inputs: { ms: 1 } } });
    const accepted = await execute();
    expect(accepted.response.status, JSON.stringify(accepted.error)).to.equal(202);
    expect(accepted.data).to.include({ status: 'queued' });
    const executionId = accepted.data!.execution_id;
    expect((await execute()).data?.execution_id, 'the same Idempotency-Key answers the first execution').to.equal(executionId);

    let status: string | undefined;
    for (let i = 0; i < 200 && status !== 'completed'; i++) {
      const now = await app.GET('/api/external/v1/executions/{execution_id}', { params: { path: { execution_id: executionId } } });
      expect(now.response.status, JSON.stringify(now.error)).to.equal(200);
      status = now.data!.status;
      if (status === 'completed') expect(now.data!.outputs).to.deep.equal({ slept: [1] });
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).to.equal('completed');

    const grants = await app.GET('/api/external/v1/grants/', { params: { query: { include_revoked: 'true' } } });
    expect(grants.data).to.deep.equal([]);
    const noGrant = await app.GET('/api/external/v1/grants/{grant_id}', { params: { path: { grant_id: 'no-such-grant' } } });
    expect(noGrant.response.status).to.equal(404);
    // The user's API key acts for no app: the external API refuses it.
    const byKey = await ann.GET('/api/external/v1/executions/capabilities');
    expect(byKey.response.status).to.equal(403);
    expect(byKey.error?.detail).to.contain('access token');
  });
});
