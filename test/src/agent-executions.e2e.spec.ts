// Agent executions over HTTP against a real server process and the example plugin:
// POST /api/v1/agents/:id/execute, per-node records in GET /api/v1/executions/:id, cancel,
// scopes, other users' ids and bad input; through the typed client (@blockyard/client), bodies
// that break the contract on purpose through plain fetch (support/http.ts).
import { expect } from 'chai';
import { createBlockyardClient, type BlockyardClient, type Schemas } from '@blockyard/client';
import { ContractValidators } from '@blockyard/contracts';
import { ApiKeyService, UserService } from '@blockyard/core';
import { composeBlockyard, readConfig } from '@blockyard/server';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey } from './support/cli.js';
import { request } from './support/http.js';

const validators = new ContractValidators();

/** topic -> echo -> echo -> text, and topic -> sleep(ms) beside it. */
const graph: Schemas['AgentCreateRequest'] = {
  name: 'echo chain',
  nodes: [
    { id: 'topic', kind: 'input', name: 'topic', schema: { type: 'string' }, required: true },
    { id: 'pause', kind: 'input', name: 'pause', schema: { type: 'integer' }, required: false, default: 0 },
    { id: 'first', kind: 'block', block_id: 'example.echo' },
    { id: 'second', kind: 'block', block_id: 'example.echo' },
    { id: 'sleep', kind: 'block', block_id: 'example.sleep' },
    { id: 'text', kind: 'output', name: 'text', schema: { type: 'string' } },
  ],
  links: [
    { source_node_id: 'topic', source_output: 'value', sink_node_id: 'first', sink_input: 'text' },
    { source_node_id: 'first', source_output: 'text', sink_node_id: 'second', sink_input: 'text' },
    { source_node_id: 'second', source_output: 'text', sink_node_id: 'text', sink_input: 'value' },
    { source_node_id: 'pause', source_output: 'value', sink_node_id: 'sleep', sink_input: 'ms' },
  ],
};

describe('agent executions over HTTP', function () {
  this.timeout(60_000);
  let server: ServerProcess;
  let dataDir: string;
  let key: string;
  let bobKey: string;
  let agentId: string;
  let client: BlockyardClient;
  const execute = (body: Schemas['ExecuteAgentRequest'], options: { wait?: number; id?: string; as?: BlockyardClient } = {}) =>
    (options.as ?? client).POST('/api/v1/agents/{id}/execute', { params: { path: { id: options.id ?? agentId }, query: options.wait === undefined ? {} : { wait: options.wait } }, body });
  const executionOf = async (id: string) => (await client.GET('/api/v1/executions/{id}', { params: { path: { id } } })).data!;

  before(async () => {
    dataDir = makeDataDir();
    key = await createKey(['READ_GRAPH', 'WRITE_GRAPH', 'RUN_AGENT', 'READ_RUN', 'WRITE_RUN'], { BLOCKYARD_DATA_DIR: dataDir });
    const other = await composeBlockyard(readConfig({ BLOCKYARD_DATA_DIR: dataDir }), { loadPlugins: false });
    try {
      const bob = await other.container.get(UserService).createUser({ email: 'bob@example.com', name: 'Bob' });
      bobKey = (await other.container.get(ApiKeyService).createApiKey({ userId: bob.id, scopes: ['READ_GRAPH', 'RUN_AGENT'] })).secret;
    } finally {
      await other.close();
    }
    server = await startServerProcess({}, dataDir);
    client = createBlockyardClient({ baseUrl: server.url, apiKey: key });
    const created = await client.POST('/api/v1/agents', { body: graph });
    expect(created.response.status, JSON.stringify(created.error)).to.equal(201);
    agentId = created.data!.id;
  });

  after(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  it('runs an agent and answers its outputs and a record per node run', async () => {
    const res = await execute({ inputs: { topic: 'hello' } }, { wait: 10 });
    expect(res.response.status, JSON.stringify(res.error)).to.equal(200);
    expect(validators.validate('execution.schema.json', res.data).ok).to.equal(true);
    const execution = res.data as Schemas['ExecutionBody'];
    expect(execution).to.deep.include({ status: 'completed', agent_id: agentId, agent_version: 1, block_id: null, outputs: { text: ['hello'] }, error: null });
    const byNode = Object.fromEntries(execution.nodes!.map((n) => [n.node_id, n]));
    expect(Object.keys(byNode).sort()).to.deep.equal(['first', 'pause', 'second', 'sleep', 'topic']);
    expect(byNode.second).to.deep.include({ block_id: 'example.echo', status: 'completed', inputs: { text: 'hello' }, outputs: { text: ['hello'] }, attempts: 1 });
    expect(byNode.sleep).to.deep.include({ status: 'completed', inputs: { ms: 0 } });
    const again = await executionOf(execution.execution_id);
    expect(again.nodes).to.deep.equal(execution.nodes);
  });

  it('answers 202 with a Location, and cancel stops a running agent', async () => {
    const res = await execute({ inputs: { topic: 'slow', pause: 60_000 } });
    expect(res.response.status).to.equal(202);
    const id = res.data!.execution_id;
    expect(res.response.headers.get('location')).to.equal(`/api/v1/executions/${id}`);
    for (let i = 0; i < 100; i++) {
      const now = await executionOf(id);
      if (now.nodes!.some((n) => n.node_id === 'sleep' && n.status === 'running')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancelled = await client.POST('/api/v1/executions/{id}/cancel', { params: { path: { id } } });
    expect(cancelled.data!.status).to.equal('cancelled');
    let sleep: { status: string } | undefined;
    for (let i = 0; i < 100; i++) {
      sleep = (await executionOf(id)).nodes!.find((n) => n.node_id === 'sleep');
      if (sleep?.status === 'cancelled') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(sleep?.status).to.equal('cancelled');
  });

  it('runs the version asked for, and 404s an unknown version', async () => {
    const links = graph.links.slice(0, 2).concat([{ source_node_id: 'first', source_output: 'text', sink_node_id: 'text', sink_input: 'value' }, graph.links[3]!]);
    const updated = await client.PUT('/api/v1/agents/{id}', { params: { path: { id: agentId } }, body: { ...graph, links } });
    expect(updated.response.status, JSON.stringify(updated.error)).to.equal(200);
    const latest = await execute({ inputs: { topic: 'v2' } }, { wait: 10 });
    expect(latest.data).to.deep.include({ agent_version: 2, outputs: { text: ['v2'] } });
    const first = await execute({ inputs: { topic: 'v1' }, version: 1 }, { wait: 10 });
    expect(first.data).to.deep.include({ agent_version: 1 });
    const missing = await execute({ inputs: { topic: 'x' }, version: 9 });
    expect(missing.response.status).to.equal(404);
  });

  it('answers bad input, missing scopes and other users with the documented errors, storing nothing', async () => {
    const badInputs = await execute({ inputs: { topic: 42 } });
    expect(badInputs.response.status).to.equal(422);
    expect(badInputs.error!.detail).to.match(/invalid inputs for agent .*topic/);
    const missing = await execute({ inputs: {} });
    expect(missing.response.status).to.equal(422);
    // Not an object: the contract does not allow it, so plain fetch sends it.
    const malformed = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key, body: { inputs: 'nope' } });
    expect(malformed.status).to.equal(422);
    const bob = await execute({ inputs: { topic: 'x' } }, { as: createBlockyardClient({ baseUrl: server.url, apiKey: bobKey }) });
    expect(bob.response.status).to.equal(404);
    const unknown = await execute({ inputs: {} }, { id: 'no-such-agent' });
    expect(unknown.response.status).to.equal(404);
    const noRun = await createKey(['READ_GRAPH', 'READ_RUN'], { BLOCKYARD_DATA_DIR: dataDir });
    const forbidden = await execute({ inputs: { topic: 'x' } }, { as: createBlockyardClient({ baseUrl: server.url, apiKey: noRun }) });
    expect(forbidden.response.status).to.equal(403);
    expect(forbidden.error!.detail).to.match(/RUN_AGENT/);
  });
});
