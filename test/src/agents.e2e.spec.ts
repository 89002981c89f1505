import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { ApiKeyService, UserService } from '@blockyard/core';
import { composeBlockyard, readConfig } from '@blockyard/server';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey } from './support/cli.js';
import { request } from './support/http.js';

const validators = new ContractValidators();

/** input topic -> two echoes -> both to the output `text` (fan-out and fan-in). */
const echoGraph = () => ({
  nodes: [
    { id: 'topic', kind: 'input', name: 'topic', schema: { type: 'string' }, required: true },
    { id: 'first', kind: 'block', block_id: 'example.echo' },
    { id: 'second', kind: 'block', block_id: 'example.echo', inputs: {}, credentials: {} },
    { id: 'text', kind: 'output', name: 'text', schema: { type: 'string' } },
  ],
  links: [
    { source_node_id: 'topic', source_output: 'value', sink_node_id: 'first', sink_input: 'text' },
    { source_node_id: 'topic', source_output: 'value', sink_node_id: 'second', sink_input: 'text', static: true },
    { source_node_id: 'first', source_output: 'text', sink_node_id: 'text', sink_input: 'value' },
    { source_node_id: 'second', source_output: 'text', sink_node_id: 'text', sink_input: 'value' },
  ],
});

describe('agents over HTTP (versioned graphs: create, get, list, update, delete)', function () {
  this.timeout(60_000);
  let server: ServerProcess;
  let dataDir: string;
  let key: string;
  let bobKey: string;
  const keys: Record<'readOnly' | 'writeOnly' | 'neither', string> = { readOnly: '', writeOnly: '', neither: '' };

  before(async () => {
    dataDir = makeDataDir();
    key = await createKey(['READ_GRAPH', 'WRITE_GRAPH', 'READ_INTEGRATIONS', 'MANAGE_INTEGRATIONS', 'READ_BLOCK'], { BLOCKYARD_DATA_DIR: dataDir });
    const other = await composeBlockyard(readConfig({ BLOCKYARD_DATA_DIR: dataDir }), { loadPlugins: false });
    try {
      const bob = await other.container.get(UserService).createUser({ email: 'bob@example.com', name: 'Bob' });
      bobKey = (await other.container.get(ApiKeyService).createApiKey({ userId: bob.id, scopes: ['READ_GRAPH', 'WRITE_GRAPH'] })).secret;
    } finally {
      await other.close();
    }
    server = await startServerProcess({}, dataDir);
    for (const [name, scopes] of [
      ['readOnly', ['READ_GRAPH']],
      ['writeOnly', ['WRITE_GRAPH']],
      ['neither', ['READ_BLOCK']],
    ] as const) {
      const created = await request(server.url, 'POST', '/api/v1/api-keys', { key, body: { name, scopes } });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      keys[name] = created.body.secret;
    }
  });

  after(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  const call = (method: string, path: string, body?: unknown, asKey = key) => request(server.url, method, path, { key: asKey, body });
  const create = (body: unknown, asKey = key) => call('POST', '/api/v1/agents', body, asKey);
  const listIds = async (asKey = key): Promise<string[]> => {
    const res = await call('GET', '/api/v1/agents?limit=100', undefined, asKey);
    expect(res.status).to.equal(200);
    return (res.body.agents as Array<{ id: string }>).map((a) => a.id);
  };

  it('creates an agent: 201 with its graph, version 1 and its input and output schemas', async () => {
    const res = await create({ name: 'Echo twice', description: 'fans out', ...echoGraph() });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(validators.validate('agent-body.schema.json', res.body).ok).to.equal(true);
    expect(res.headers.get('location')).to.equal(`/api/v1/agents/${res.body.id}`);
    expect(res.body).to.include({ name: 'Echo twice', description: 'fans out', version: 1, latest_version: 1 });
    expect(res.body.nodes).to.deep.equal([
      { id: 'topic', kind: 'input', name: 'topic', schema: { type: 'string' }, required: true },
      { id: 'first', kind: 'block', block_id: 'example.echo', inputs: {}, credentials: {} },
      { id: 'second', kind: 'block', block_id: 'example.echo', inputs: {}, credentials: {} },
      { id: 'text', kind: 'output', name: 'text', schema: { type: 'string' } },
    ]);
    expect(res.body.links.map((l: { static: boolean }) => l.static)).to.deep.equal([false, true, false, false]);
    expect(res.body.input_schema).to.deep.equal({ type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] });
    expect(res.body.output_schema).to.deep.equal({ type: 'object', properties: { text: { type: 'array', items: { type: 'string' } } } });

    const got = await call('GET', `/api/v1/agents/${res.body.id}`);
    expect(got.status).to.equal(200);
    expect(got.body).to.deep.equal(res.body);
  });

  it('lists the caller’s agents newest first, a page at a time', async () => {
    const made: string[] = [];
    for (const name of ['page one', 'page two', 'page three']) made.push((await create({ name, ...echoGraph() })).body.id);
    const first = await call('GET', '/api/v1/agents?limit=2');
    expect(first.status).to.equal(200);
    expect(validators.validate('agent-list.schema.json', first.body).ok).to.equal(true);
    expect(first.body.agents.map((a: { id: string }) => a.id)).to.deep.equal([made[2], made[1]]);
    expect(first.body.agents[0]).to.have.keys(['id', 'name', 'description', 'version', 'created_at', 'updated_at']);
    expect(first.body.next_cursor).to.be.a('string');
    const second = await call('GET', `/api/v1/agents?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body.agents[0].id).to.equal(made[0]);
    expect((await call('GET', '/api/v1/agents?limit=0')).status).to.equal(422);
    expect((await call('GET', '/api/v1/agents?cursor=not-a-cursor')).status).to.equal(422);
  });

  it('saves every update as a new version; older versions stay readable; a stale version is a 409', async () => {
    const created = await create({ name: 'Versioned', ...echoGraph() });
    const id = created.body.id as string;
    const smaller = {
      nodes: [
        { id: 'topic', kind: 'input', name: 'topic', schema: { type: 'string' }, default: 'hello' },
        { id: 'out', kind: 'output', name: 'topic' },
      ],
      links: [{ source_node_id: 'topic', source_output: 'value', sink_node_id: 'out', sink_input: 'value' }],
    };
    const updated = await call('PUT', `/api/v1/agents/${id}`, { ...smaller, name: 'Versioned v2', version: 1 });
    expect(updated.status, JSON.stringify(updated.body)).to.equal(200);
    expect(validators.validate('agent-body.schema.json', updated.body).ok).to.equal(true);
    expect(updated.body).to.include({ id, name: 'Versioned v2', version: 2, latest_version: 2 });
    expect(updated.body.nodes[0]).to.deep.equal({ id: 'topic', kind: 'input', name: 'topic', schema: { type: 'string' }, required: false, default: 'hello' });
    expect(updated.body.input_schema).to.deep.equal({ type: 'object', properties: { topic: { type: 'string', default: 'hello' } }, required: [] });

    const stale = await call('PUT', `/api/v1/agents/${id}`, { ...echoGraph(), name: 'stale', version: 1 });
    expect(stale.status).to.equal(409);
    expect(stale.body.detail).to.contain('version 2');

    const latest = await call('GET', `/api/v1/agents/${id}`);
    expect(latest.body).to.include({ name: 'Versioned v2', version: 2 });
    const v1 = await call('GET', `/api/v1/agents/${id}?version=1`);
    expect(v1.status).to.equal(200);
    expect(v1.body).to.include({ name: 'Versioned', version: 1, latest_version: 2 });
    expect(v1.body.nodes).to.deep.equal(created.body.nodes);
    expect((await call('GET', `/api/v1/agents/${id}?version=3`)).status).to.equal(404);
    expect((await call('GET', `/api/v1/agents/${id}?version=abc`)).status).to.equal(422);

    // Without a base version, the update applies to the latest.
    const third = await call('PUT', `/api/v1/agents/${id}`, smaller);
    expect(third.body).to.include({ name: 'Versioned v2', version: 3 });
  });

  it('answers 422 listing every problem of an invalid graph, with node ids, and stores nothing', async () => {
    const before = await listIds();
    const res = await create({
      name: 'Broken',
      nodes: [
        { id: 'ghost', kind: 'block', block_id: 'example.nope' },
        { id: 'a', kind: 'block', block_id: 'example.echo' },
        { id: 'b', kind: 'block', block_id: 'example.echo', inputs: { colour: 'red' } },
        { id: 'sleeper', kind: 'block', block_id: 'example.sleep' },
        { id: 'lonely', kind: 'block', block_id: 'example.echo' },
        { id: 'issue', kind: 'block', block_id: 'github.create_issue', inputs: { owner: 'o', repo: 'r', title: 't' } },
      ],
      links: [
        { source_node_id: 'a', source_output: 'text', sink_node_id: 'b', sink_input: 'text' },
        { source_node_id: 'b', source_output: 'text', sink_node_id: 'a', sink_input: 'text' },
        { source_node_id: 'a', source_output: 'text', sink_node_id: 'sleeper', sink_input: 'ms' },
        { source_node_id: 'a', source_output: 'nope', sink_node_id: 'nowhere', sink_input: 'text' },
      ],
    });
    expect(res.status).to.equal(422);
    const detail = res.body.detail as string;
    expect(detail).to.match(/^invalid agent graph \(\d+ problems\)/);
    expect(detail).to.contain('/nodes/ghost/block_id').and.contain('unknown block example.nope');
    expect(detail).to.contain('/nodes/b/inputs/colour');
    expect(detail).to.contain('/nodes/sleeper/inputs/ms').and.contain('cannot take node "a" output "text"');
    expect(detail).to.contain('/nodes/lonely/inputs/text').and.contain('required input "text"');
    expect(detail).to.contain('/links/3/sink_node_id').and.contain('"nowhere"');
    expect(detail).to.contain('nodes form a cycle: "a" -> "b" -> "a"');
    expect(detail).to.contain('/nodes/issue/credentials/credentials').and.contain('needs a credential for github');
    expect(await listIds()).to.deep.equal(before);
  });

  it('answers 400 or 422 with a clear detail for malformed bodies, storing nothing', async () => {
    const before = await listIds();
    const raw = await request(server.url, 'POST', '/api/v1/agents', { key, raw: '{"name": "x", "nodes": [' });
    expect(raw.status).to.equal(400);
    expect(raw.body.detail).to.equal('malformed JSON in request body');
    const cases: Array<[unknown, string]> = [
      [{ nodes: echoGraph().nodes, links: [] }, '/name'],
      [{ name: 'x', nodes: [{ id: 'n', kind: 'robot' }], links: [] }, '/nodes/0/kind'],
      [{ name: 'x', nodes: [{ id: 'n', kind: 'block' }], links: [] }, '/nodes/0/block_id'],
      [{ name: 'x', nodes: [{ id: 'n', kind: 'input', name: 'i', extra: 1 }], links: [] }, '/nodes/0/extra'],
      [{ name: 'x', nodes: echoGraph().nodes, links: [{ source_node_id: 'topic', source_output: 'value', sink_node_id: 'first' }] }, '/links/0/sink_input'],
      [{ name: 'x', nodes: [], links: [] }, '/nodes'],
    ];
    for (const [body, path] of cases) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).to.equal(422);
      expect(res.body.detail).to.contain('invalid request body').and.contain(path);
    }
    const id = (await create({ name: 'target', ...echoGraph() })).body.id;
    const badPut = await call('PUT', `/api/v1/agents/${id}`, { nodes: echoGraph().nodes, links: [], version: 0 });
    expect(badPut.status).to.equal(422);
    expect((await call('GET', `/api/v1/agents/${id}`)).body.version).to.equal(1);
    expect(await listIds()).to.deep.equal([id, ...before]);
  });

  it('checks credentials: the caller’s own of the right provider passes, another user’s is not found', async () => {
    const credential = await call('POST', '/api/v1/credentials', { provider: 'github', kind: 'api_key', scopes: ['github:repo.write'], secret: { api_key: 'ghp_agent_e2e_secret' } });
    expect(credential.status).to.equal(201);
    const withCredential = {
      name: 'Issue maker',
      nodes: [
        { id: 'title', kind: 'input', name: 'title', schema: { type: 'string' }, required: true },
        { id: 'issue', kind: 'block', block_id: 'github.create_issue', inputs: { owner: 'o', repo: 'r' }, credentials: { credentials: credential.body.id } },
        { id: 'out', kind: 'output', name: 'issue', schema: { type: 'object' } },
      ],
      links: [
        { source_node_id: 'title', source_output: 'value', sink_node_id: 'issue', sink_input: 'title' },
        { source_node_id: 'issue', source_output: 'issue', sink_node_id: 'out', sink_input: 'value' },
      ],
    };
    const mine = await create(withCredential);
    expect(mine.status, JSON.stringify(mine.body)).to.equal(201);
    expect(mine.body.nodes[1].credentials).to.deep.equal({ credentials: credential.body.id });
    expect(JSON.stringify(mine.body)).not.to.contain('ghp_agent_e2e_secret');

    const bobs = await create(withCredential, bobKey);
    expect(bobs.status).to.equal(422);
    expect(bobs.body.detail).to.contain(`credential ${credential.body.id} not found`).and.contain('"issue"');

    const wrongProvider = await create({ ...withCredential, nodes: [{ id: 'greet', kind: 'block', block_id: 'example.greet', inputs: { name: 'x' }, credentials: { credentials: credential.body.id } }], links: [] });
    expect(wrongProvider.status).to.equal(422);
    expect(wrongProvider.body.detail).to.contain('is for github').and.contain('needs a credential for example');
  });

  it('accepts a trigger block with no incoming links', async () => {
    const res = await create({
      name: 'On event',
      nodes: [
        { id: 'trigger', kind: 'block', block_id: 'example.trigger' },
        { id: 'out', kind: 'output', name: 'event' },
      ],
      links: [{ source_node_id: 'trigger', source_output: 'event_data', sink_node_id: 'out', sink_input: 'value' }],
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });

  it('answers 403 without READ_GRAPH or WRITE_GRAPH, changing nothing', async () => {
    const id = (await create({ name: 'Guarded', ...echoGraph() })).body.id;
    const graph = { ...echoGraph(), name: 'hijacked' };

    expect((await call('GET', '/api/v1/agents', undefined, keys.readOnly)).status).to.equal(200);
    expect((await call('GET', `/api/v1/agents/${id}`, undefined, keys.readOnly)).status).to.equal(200);
    for (const [method, path, body] of [
      ['POST', '/api/v1/agents', graph],
      ['PUT', `/api/v1/agents/${id}`, graph],
      ['DELETE', `/api/v1/agents/${id}`, undefined],
    ] as const) {
      const res = await call(method, path, body, keys.readOnly);
      expect(res.status, `${method} ${path}`).to.equal(403);
      expect(res.body.detail).to.contain('WRITE_GRAPH');
    }

    for (const path of ['/api/v1/agents', `/api/v1/agents/${id}`]) {
      const res = await call('GET', path, undefined, keys.writeOnly);
      expect(res.status, path).to.equal(403);
      expect(res.body.detail).to.contain('READ_GRAPH');
    }
    expect((await call('GET', '/api/v1/agents', undefined, keys.neither)).status).to.equal(403);
    expect((await call('POST', '/api/v1/agents', graph, keys.neither)).status).to.equal(403);
    expect((await call('GET', '/api/v1/agents')).status).to.equal(200);
    expect((await request(server.url, 'GET', '/api/v1/agents')).status).to.equal(401);

    const after = await call('GET', `/api/v1/agents/${id}`);
    expect(after.body).to.include({ name: 'Guarded', version: 1 });
  });

  it("answers 404 for another user's agent and never lists it", async () => {
    const id = (await create({ name: 'Mine', ...echoGraph() })).body.id;
    expect((await call('GET', `/api/v1/agents/${id}`, undefined, bobKey)).status).to.equal(404);
    expect((await call('GET', `/api/v1/agents/${id}?version=1`, undefined, bobKey)).status).to.equal(404);
    expect((await call('PUT', `/api/v1/agents/${id}`, { ...echoGraph(), version: 1 }, bobKey)).status).to.equal(404);
    expect((await call('DELETE', `/api/v1/agents/${id}`, undefined, bobKey)).status).to.equal(404);
    expect(await listIds(bobKey)).not.to.include(id);
    const still = await call('GET', `/api/v1/agents/${id}`);
    expect(still.body).to.include({ name: 'Mine', version: 1 });
  });

  it('deletes an agent: 204, then 404 on get, update and delete, and gone from the list', async () => {
    const id = (await create({ name: 'Doomed', ...echoGraph() })).body.id;
    const res = await call('DELETE', `/api/v1/agents/${id}`);
    expect(res.status).to.equal(204);
    expect((await call('GET', `/api/v1/agents/${id}`)).status).to.equal(404);
    expect((await call('GET', `/api/v1/agents/${id}?version=1`)).status).to.equal(404);
    expect((await call('PUT', `/api/v1/agents/${id}`, echoGraph())).status).to.equal(404);
    expect((await call('DELETE', `/api/v1/agents/${id}`)).status).to.equal(404);
    expect(await listIds()).not.to.include(id);
  });
});
