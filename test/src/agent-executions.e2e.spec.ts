// Agent executions over HTTP against a real server process and the example plugin:
// POST /api/v1/agents/:id/execute, per-node records in GET /api/v1/executions/:id, cancel,
// scopes, other users' ids and bad input.
import { expect } from 'chai';
import { ContractValidators } from '@blockyard/contracts';
import { ApiKeyService, UserService } from '@blockyard/core';
import { composeBlockyard, readConfig } from '@blockyard/server';
import { makeDataDir, removeDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';
import { createKey } from './support/cli.js';
import { request } from './support/http.js';

const validators = new ContractValidators();

/** topic -> echo -> echo -> text, and topic -> sleep(ms) beside it. */
const graph = {
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
    const created = await request(server.url, 'POST', '/api/v1/agents', { key, body: graph });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    agentId = created.body.id;
  });

  after(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  it('runs an agent and answers its outputs and a record per node run', async () => {
    const res = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute?wait=10`, { key, body: { inputs: { topic: 'hello' } } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(validators.validate('execution.schema.json', res.body).ok).to.equal(true);
    expect(res.body).to.deep.include({ status: 'completed', agent_id: agentId, agent_version: 1, block_id: null, outputs: { text: ['hello'] }, error: null });
    const byNode = Object.fromEntries((res.body.nodes as { node_id: string }[]).map((n) => [n.node_id, n]));
    expect(Object.keys(byNode).sort()).to.deep.equal(['first', 'pause', 'second', 'sleep', 'topic']);
    expect(byNode.second).to.deep.include({ block_id: 'example.echo', status: 'completed', inputs: { text: 'hello' }, outputs: { text: ['hello'] }, attempts: 1 });
    expect(byNode.sleep).to.deep.include({ status: 'completed', inputs: { ms: 0 } });
    const again = await request(server.url, 'GET', `/api/v1/executions/${res.body.execution_id}`, { key });
    expect(again.body.nodes).to.deep.equal(res.body.nodes);
  });

  it('answers 202 with a Location, and cancel stops a running agent', async () => {
    const res = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key, body: { inputs: { topic: 'slow', pause: 60_000 } } });
    expect(res.status).to.equal(202);
    expect(res.headers.get('location')).to.equal(`/api/v1/executions/${res.body.execution_id}`);
    const id = res.body.execution_id as string;
    for (let i = 0; i < 100; i++) {
      const now = await request(server.url, 'GET', `/api/v1/executions/${id}`, { key });
      if ((now.body.nodes as { node_id: string; status: string }[]).some((n) => n.node_id === 'sleep' && n.status === 'running')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancelled = await request(server.url, 'POST', `/api/v1/executions/${id}/cancel`, { key });
    expect(cancelled.body.status).to.equal('cancelled');
    let sleep: { status: string } | undefined;
    for (let i = 0; i < 100; i++) {
      const now = await request(server.url, 'GET', `/api/v1/executions/${id}`, { key });
      sleep = (now.body.nodes as { node_id: string; status: string }[]).find((n) => n.node_id === 'sleep');
      if (sleep?.status === 'cancelled') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(sleep?.status).to.equal('cancelled');
  });

  it('runs the version asked for, and 404s an unknown version', async () => {
    const updated = await request(server.url, 'PUT', `/api/v1/agents/${agentId}`, { key, body: { ...graph, links: graph.links.slice(0, 2).concat([{ source_node_id: 'first', source_output: 'text', sink_node_id: 'text', sink_input: 'value' }, graph.links[3]!]) } });
    expect(updated.status, JSON.stringify(updated.body)).to.equal(200);
    const latest = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute?wait=10`, { key, body: { inputs: { topic: 'v2' } } });
    expect(latest.body).to.deep.include({ agent_version: 2, outputs: { text: ['v2'] } });
    const first = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute?wait=10`, { key, body: { inputs: { topic: 'v1' }, version: 1 } });
    expect(first.body).to.deep.include({ agent_version: 1 });
    const missing = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key, body: { inputs: { topic: 'x' }, version: 9 } });
    expect(missing.status).to.equal(404);
  });

  it('answers bad input, missing scopes and other users with the documented errors, storing nothing', async () => {
    const badInputs = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key, body: { inputs: { topic: 42 } } });
    expect(badInputs.status).to.equal(422);
    expect(badInputs.body.detail).to.match(/invalid inputs for agent .*topic/);
    const missing = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key, body: { inputs: {} } });
    expect(missing.status).to.equal(422);
    const malformed = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key, body: { inputs: 'nope' } });
    expect(malformed.status).to.equal(422);
    const bob = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key: bobKey, body: { inputs: { topic: 'x' } } });
    expect(bob.status).to.equal(404);
    const unknown = await request(server.url, 'POST', '/api/v1/agents/no-such-agent/execute', { key, body: { inputs: {} } });
    expect(unknown.status).to.equal(404);
    const noRun = await createKey(['READ_GRAPH', 'READ_RUN'], { BLOCKYARD_DATA_DIR: dataDir });
    const forbidden = await request(server.url, 'POST', `/api/v1/agents/${agentId}/execute`, { key: noRun, body: { inputs: { topic: 'x' } } });
    expect(forbidden.status).to.equal(403);
    expect(forbidden.body.detail).to.match(/RUN_AGENT/);
  });
});
