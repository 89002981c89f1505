import { expect } from 'chai';
import { ContractValidators, type ContractSchemaId } from '@blockyard/contracts';
import { makeDataDir, removeDataDir, runServerToExit, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey, runBlockyard } from './support/cli.js';
import { pollExecution, request } from './support/http.js';
import { brokenPluginFixture } from './support/plugin-fixtures.js';
import { startExampleApi, type ExampleApiStandIn } from './support/example-api.js';
import { ApiKeyService, UserService } from '@blockyard/core';
import { composeBlockyard, readConfig } from '@blockyard/server';

const validators = new ContractValidators();
function expectContract(schema: ContractSchemaId, body: unknown): void {
  const result = validators.validate(schema, body);
  expect(result.ok, JSON.stringify(!result.ok && result.issues)).to.equal(true);
}

describe('server end to end (HTTP on 127.0.0.1, SQLite, example plugin)', function () {
  this.timeout(60_000);
  let server: ServerProcess;
  let env: Record<string, string>;
  let key: string; // every scope the API v1 routes need
  let base: string;
  let exampleApi: ExampleApiStandIn;
  const brokenDir = brokenPluginFixture();

  before(async () => {
    const dataDir = makeDataDir();
    env = { BLOCKYARD_DATA_DIR: dataDir };
    key = await createKey(['READ_BLOCK', 'EXECUTE_BLOCK', 'READ_RUN', 'WRITE_RUN'], env);
    exampleApi = await startExampleApi('example-e2e-key');
    server = await startServerProcess(
      {
        BLOCKYARD_PLUGINS: `@blockyard/plugin-example,${brokenDir}`,
        EXAMPLE_API_KEY: 'example-e2e-key',
        BLOCKYARD_PROVIDER_BASE_URLS: `example=${exampleApi.url}/v1`,
        BLOCKYARD_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      },
      dataDir,
    );
    base = server.url;
  });

  after(async () => {
    await server?.stop();
    await exampleApi?.close();
    removeDataDir(env.BLOCKYARD_DATA_DIR!);
    removeDataDir(brokenDir);
  });

  describe('GET /healthz', () => {
    it('answers 200 { status: ok } without a key, with a request id', async () => {
      const res = await request(base, 'GET', '/healthz');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ status: 'ok' });
      expect(res.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });

    it('echoes a caller-chosen request id', async () => {
      const res = await request(base, 'GET', '/healthz', { headers: { 'x-request-id': 'trace-42' } });
      expect(res.headers.get('x-request-id')).to.equal('trace-42');
    });
  });

  describe('authentication', () => {
    it('answers 401 with a detail when X-API-Key is missing', async () => {
      const res = await request(base, 'GET', '/api/v1/blocks');
      expect(res.status).to.equal(401);
      expectContract('error-body.schema.json', res.body);
      expect(res.body.detail).to.match(/X-API-Key/);
    });

    it('answers 401 for a key that does not exist', async () => {
      const res = await request(base, 'GET', '/api/v1/blocks', { key: 'byk_' + 'x'.repeat(43) });
      expect(res.status).to.equal(401);
    });

    it('answers 403 naming the scope a key lacks', async () => {
      const readOnly = await createKey(['READ_BLOCK'], env);
      const res = await request(base, 'POST', '/api/v1/blocks/example.echo/execute', { key: readOnly, body: { inputs: { text: 'x' } } });
      expect(res.status).to.equal(403);
      expect(res.body.detail).to.contain('EXECUTE_BLOCK');
    });

    it('answers 401 at once for a key revoked with the CLI', async () => {
      const doomed = await createKey(['READ_BLOCK'], env);
      expect((await request(base, 'GET', '/api/v1/blocks', { key: doomed })).status).to.equal(200);
      const list = await runBlockyard(['keys', 'list', '--json'], env);
      const row = (JSON.parse(list.stdout) as Array<{ id: string; prefix: string }>).find((k) => doomed.startsWith(k.prefix.replace('…', '')))!;
      const revoked = await runBlockyard(['keys', 'revoke', row.id], env);
      expect(revoked.code).to.equal(0);
      expect((await request(base, 'GET', '/api/v1/blocks', { key: doomed })).status).to.equal(401);
    });
  });

  describe('GET /api/v1/blocks', () => {
    it('lists the example plugin blocks, each matching the block contract', async () => {
      const res = await request(base, 'GET', '/api/v1/blocks', { key });
      expect(res.status).to.equal(200);
      expectContract('block-list.schema.json', res.body);
      const ids = (res.body as Array<{ id: string }>).map((b) => b.id);
      expect(ids).to.include.members(['example.echo', 'example.sleep', 'example.greet', 'example.trigger']);
    });

    it('serves the others when a plugin fails to load, and logs why it was skipped', async () => {
      const res = await request(base, 'GET', '/api/v1/blocks', { key });
      expect((res.body as Array<{ id: string }>).some((b) => b.id.startsWith('broken.'))).to.equal(false);
      const line = server.logs.find((l) => String(l.msg).includes('plugin broken-plugin skipped'));
      expect(line, server.output()).to.not.equal(undefined);
      expect(String(line!.msg)).to.contain('threw while loading');
    });
  });

  describe('GET /api/v1/blocks/:id', () => {
    it('answers the block definition', async () => {
      const res = await request(base, 'GET', '/api/v1/blocks/example.echo', { key });
      expect(res.status).to.equal(200);
      expectContract('block-definition.schema.json', res.body);
      expect(res.body.input_schema.required).to.deep.equal(['text']);
    });

    it('answers 404 for an unknown block', async () => {
      const res = await request(base, 'GET', '/api/v1/blocks/nope.nothing', { key });
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({ detail: 'block nope.nothing not found' });
    });
  });

  describe('POST /api/v1/blocks/:id/execute', () => {
    it('answers 202 queued, and the execution completes with the echoed text', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.echo/execute', { key, body: { inputs: { text: 'hello' } } });
      expect(res.status).to.equal(202);
      expectContract('execute-block-accepted.schema.json', res.body);
      expect(res.body.status).to.equal('queued');
      const done = await pollExecution(base, key, res.body.execution_id, ['completed', 'failed']);
      expectContract('execution.schema.json', done);
      expect(done).to.include({ execution_id: res.body.execution_id, block_id: 'example.echo', status: 'completed', error: null, cost_usd: 0 });
      expect(done.outputs).to.deep.equal({ text: ['hello'] });
      expect(done.inputs).to.deep.equal({ text: 'hello' });
      expect(Date.parse(done.completed_at)).to.be.at.least(Date.parse(done.started_at));
      expect(Date.parse(done.started_at)).to.be.at.least(Date.parse(done.created_at));
    });

    it('answers 200 with the finished execution when ?wait= is long enough', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.echo/execute?wait=5', { key, body: { inputs: { text: 'now' } } });
      expect(res.status).to.equal(200);
      expectContract('execution.schema.json', res.body);
      expect(res.body.status).to.equal('completed');
      expect(res.body.outputs).to.deep.equal({ text: ['now'] });
    });

    it('answers 202 when ?wait= ends first, and the execution goes on', async () => {
      const t0 = Date.now();
      const res = await request(base, 'POST', '/api/v1/blocks/example.sleep/execute?wait=0.3', { key, body: { inputs: { ms: 1000 } } });
      expect(res.status).to.equal(202);
      expect(Date.now() - t0).to.be.at.least(250);
      const done = await pollExecution(base, key, res.body.execution_id, ['completed']);
      expect(done.outputs).to.deep.equal({ slept_ms: [1000] });
    });

    it('answers 422 for a ?wait= over 30 seconds', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.echo/execute?wait=31', { key, body: { inputs: { text: 'x' } } });
      expect(res.status).to.equal(422);
      expect(res.body.detail).to.contain('wait');
    });

    it('answers 422 naming the failing paths for invalid inputs, storing nothing', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.echo/execute', { key, body: { inputs: { text: 7, extra: true } } });
      expect(res.status).to.equal(422);
      expect(res.body.detail).to.contain('/text: must be string').and.to.contain('/extra: is not allowed');
    });

    it('answers 422 when the body has no inputs object', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.echo/execute', { key, body: { input: {} } });
      expect(res.status).to.equal(422);
      expect(res.body.detail).to.contain('/inputs: is required');
    });

    it('answers 400 for malformed JSON', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.echo/execute', { key, raw: '{"inputs": {"text": "x"' });
      expect(res.status).to.equal(400);
      expect(res.body).to.deep.equal({ detail: 'malformed JSON in request body' });
    });

    it('answers 413 for a body over the size limit', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.echo/execute', { key, body: { inputs: { text: 'x'.repeat(2 * 1024 * 1024) } } });
      expect(res.status).to.equal(413);
      expect(res.body).to.deep.equal({ detail: 'request body is too large' });
    });

    it('answers 404 for an unknown block', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/nope.nothing/execute', { key, body: { inputs: {} } });
      expect(res.status).to.equal(404);
    });
  });

  describe('example.greet against a local Example API (system credential EXAMPLE_API_KEY)', () => {
    beforeEach(() => {
      exampleApi.received.length = 0;
      exampleApi.failWith = undefined;
    });

    it('creates one resource per greeting with the key injected, streaming each response', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.greet/execute?wait=10', {
        key,
        body: { inputs: { name: 'Ada', greetings: ['Hello', 'Hi'], is_funny: false } },
      });
      expect(res.status).to.equal(200);
      expect(res.body.status, res.body.error).to.equal('completed');
      expect(res.body.outputs.response).to.deep.equal([{ message: 'API response: created Hello, Ada.' }, { message: 'API response: created Hi, Ada.' }]);
      expect(res.body.outputs.all_responses).to.deep.equal([res.body.outputs.response]);
      expect(res.body.outputs.greeting_count).to.deep.equal([2]);
      expect(res.body.cost_usd).to.equal(0.001);
      expect(exampleApi.received).to.deep.equal([
        { method: 'POST', path: '/v1/resources', authorization: 'Bearer example-e2e-key', body: { name: 'Hello, Ada.', type: 'greeting' } },
        { method: 'POST', path: '/v1/resources', authorization: 'Bearer example-e2e-key', body: { name: 'Hi, Ada.', type: 'greeting' } },
      ]);
      expect(JSON.stringify(res.body)).not.to.contain('example-e2e-key');
      expect(server.output()).not.to.contain('example-e2e-key');
    });

    it('applies the input defaults (three greetings, funny)', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.greet/execute?wait=10', { key, body: { inputs: { name: 'Bo' } } });
      expect(res.body.inputs).to.deep.equal({ name: 'Bo', greetings: ['Hello', 'Hi', 'Hey'], is_funny: true });
      expect(res.body.outputs.greeting_count).to.deep.equal([3]);
      expect((exampleApi.received[0]!.body as { name: string }).name).to.equal('Hello, Bo :)');
    });

    it('fails with the upstream status when the Example API refuses, without retrying the POST', async () => {
      exampleApi.failWith = 503;
      const res = await request(base, 'POST', '/api/v1/blocks/example.greet/execute?wait=10', { key, body: { inputs: { name: 'Ada' } } });
      expect(res.body.status).to.equal('failed');
      expect(res.body.error).to.equal('Example API answered 503 when creating a resource');
      expect(exampleApi.received).to.have.length(1);
    });
  });

  describe('GET /api/v1/executions/:id', () => {
    it("answers 404 for another user's execution, and 404 to cancel it", async () => {
      const mine = await request(base, 'POST', '/api/v1/blocks/example.echo/execute?wait=5', { key, body: { inputs: { text: 'private' } } });
      const other = await composeBlockyard(readConfig({ BLOCKYARD_DATA_DIR: env.BLOCKYARD_DATA_DIR }), { loadPlugins: false });
      let bobKey: string;
      try {
        const bob = await other.container.get(UserService).createUser({ email: 'bob@example.com', name: 'Bob' });
        bobKey = (await other.container.get(ApiKeyService).createApiKey({ userId: bob.id, scopes: ['READ_RUN', 'WRITE_RUN'] })).secret;
      } finally {
        await other.close();
      }
      const seen = await request(base, 'GET', `/api/v1/executions/${mine.body.execution_id}`, { key: bobKey });
      expect(seen.status).to.equal(404);
      expect(JSON.stringify(seen.body)).not.to.contain('private');
      const cancel = await request(base, 'POST', `/api/v1/executions/${mine.body.execution_id}/cancel`, { key: bobKey });
      expect(cancel.status).to.equal(404);
    });

    it('answers 404 for an unknown id', async () => {
      const res = await request(base, 'GET', '/api/v1/executions/does-not-exist', { key });
      expect(res.status).to.equal(404);
      expect(res.body.detail).to.contain('does-not-exist');
    });
  });

  describe('POST /api/v1/executions/:id/cancel', () => {
    it('cancels a running sleep at once, and a second cancel is 409', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.sleep/execute', { key, body: { inputs: { ms: 60_000 } } });
      await pollExecution(base, key, res.body.execution_id, ['running']);
      const t0 = Date.now();
      const cancelled = await request(base, 'POST', `/api/v1/executions/${res.body.execution_id}/cancel`, { key });
      expect(cancelled.status).to.equal(200);
      expectContract('execution.schema.json', cancelled.body);
      expect(cancelled.body.status).to.equal('cancelled');
      expect(Date.now() - t0).to.be.below(5000);
      await new Promise((r) => setTimeout(r, 300));
      const later = await request(base, 'GET', `/api/v1/executions/${res.body.execution_id}`, { key });
      expect(later.body.status).to.equal('cancelled');
      expect(later.body.completed_at).to.be.a('string');
      const again = await request(base, 'POST', `/api/v1/executions/${res.body.execution_id}/cancel`, { key });
      expect(again.status).to.equal(409);
      expect(again.body.detail).to.contain('already cancelled');
    });

    it('answers 409 for a completed execution', async () => {
      const res = await request(base, 'POST', '/api/v1/blocks/example.echo/execute?wait=5', { key, body: { inputs: { text: 'x' } } });
      const again = await request(base, 'POST', `/api/v1/executions/${res.body.execution_id}/cancel`, { key });
      expect(again.status).to.equal(409);
    });

    it('answers 404 for an unknown id', async () => {
      const res = await request(base, 'POST', '/api/v1/executions/nope/cancel', { key });
      expect(res.status).to.equal(404);
    });
  });

  describe('unknown routes', () => {
    it('answers 404 JSON', async () => {
      const res = await request(base, 'GET', '/nothing/here');
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({ detail: 'not found: GET /nothing/here' });
    });

    it('answers 405 JSON for a known path with the wrong method', async () => {
      const res = await request(base, 'DELETE', '/healthz');
      expect(res.status).to.equal(405);
      expect(res.body.detail).to.contain('not allowed');
    });
  });
});

describe('server configuration', function () {
  this.timeout(30_000);

  it('exits non-zero naming each bad variable', async () => {
    const { code, output } = await runServerToExit({ PORT: 'eighty', LOG_LEVEL: 'loud', BLOCKYARD_DATABASE_URL: 'mysql://x' });
    expect(code).to.equal(2);
    expect(output).to.contain('PORT must be an integer').and.to.contain('LOG_LEVEL must be one of').and.to.contain('BLOCKYARD_DATABASE_URL must be a postgres:// URL');
  });

  it('exits non-zero with a clear message when the port is taken', async () => {
    const first = await startServerProcess();
    try {
      const port = new URL(first.url).port;
      const { code, output } = await runServerToExit({ PORT: port, HOST: '127.0.0.1', BLOCKYARD_DATA_DIR: makeDataDir() });
      expect(code).to.equal(1);
      expect(output).to.contain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await first.stop();
      removeDataDir(first.dataDir);
    }
  });
});
