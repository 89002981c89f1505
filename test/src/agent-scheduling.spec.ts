// Agent executions on the memory adapters: scheduling node by node through the queue
// (chains, diamonds, streamed fan-out, static links), failure, cancel, timeouts, the
// concurrency limit, per-node records, and redelivered jobs that must not re-run finished nodes.
import { expect } from 'chai';
import { Container } from 'inversify';
import {
  AgentService,
  BlockRegistry,
  coreModule,
  DomainError,
  ExecutionRunner,
  ExecutionService,
  ExecutionLifecycleListener,
  ExecutionWorker,
  UserService,
  type AgentLink,
  type AgentNode,
  type Block,
  type CoreModuleOptions,
  type Execution,
} from '@blockyard/core';
import { memoryStorageModule } from '@blockyard/storage-memory';
import { memoryQueueModule } from '@blockyard/queue-memory';

const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const calls: Record<string, number> = {};
let running = 0;
let maxRunning = 0;

function block(id: string, inputs: Record<string, object>, outputs: Record<string, object>, handler: Block['handler'], extra: Partial<Block['definition']> = {}): Block {
  return {
    definition: {
      id,
      name: id,
      description: '',
      categories: [],
      input_schema: { type: 'object', required: Object.keys(inputs), properties: inputs },
      output_schema: { type: 'object', properties: outputs },
      ...extra,
    },
    handler: (values, ctx) => {
      calls[id] = (calls[id] ?? 0) + 1;
      return handler(values, ctx);
    },
  };
}

const blocks: Block[] = [
  block('t.double', { x: num }, { y: num }, async function* ({ x }) {
    yield ['y', (x as number) * 2];
  }),
  block('t.add', { a: num, b: num }, { sum: num }, ({ a, b }) => ({ data: { sum: (a as number) + (b as number) }, costUsd: 0.25 })),
  block('t.stream', { n: num }, { item: num }, async function* ({ n }) {
    for (let i = 1; i <= (n as number); i++) yield ['item', i];
  }),
  block('t.concat', { a: str, b: num }, { text: str }, ({ a, b }) => ({ data: { text: `${a as string}${b as number}` } })),
  block('t.fail', { x: num }, { y: num }, () => ({ error: 'the upstream said no' })),
  block('t.hang', { x: num }, { y: num }, (_v, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))),
  block('t.slow', { x: num }, { y: num }, async ({ x }) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, 20));
    running--;
    return { data: { y: x } };
  }),
  block('t.on_event', { payload: { type: 'object' } }, { action: str }, async function* ({ payload }) {
    yield ['action', (payload as { action: string }).action];
  }, { kind: 'trigger' }),
];

const input = (id: string, name: string, schema: Record<string, unknown> = num): AgentNode => ({ id, kind: 'input', name, schema, required: true });
const output = (id: string, name: string, schema: Record<string, unknown> = num): AgentNode => ({ id, kind: 'output', name, schema });
const node = (id: string, blockId: string, inputs: Record<string, unknown> = {}): AgentNode => ({ id, kind: 'block', blockId, inputs, credentials: {} });
const link = (source: string, out: string, sink: string, into: string, isStatic = false): AgentLink => ({ sourceNodeId: source, sourceOutput: out, sinkNodeId: sink, sinkInput: into, static: isStatic });

async function compose(options: CoreModuleOptions = {}, listener?: ExecutionLifecycleListener) {
  const container = new Container();
  container.load(coreModule({ engine: { cancelGraceMs: 50 }, worker: { pollMs: 20 }, ...options }), memoryStorageModule(), memoryQueueModule());
  if (listener) container.bind(ExecutionLifecycleListener).toConstantValue(listener);
  container.get<BlockRegistry>(BlockRegistry).registerAll(blocks, 'spec');
  const alice = await container.get(UserService).createUser({ email: 'alice@example.com', name: 'Alice' });
  const bob = await container.get(UserService).createUser({ email: 'bob@example.com', name: 'Bob' });
  const worker = container.get(ExecutionWorker);
  worker.start();
  const executions = container.get(ExecutionService);
  const agents = container.get(AgentService);
  const create = async (nodes: AgentNode[], links: AgentLink[]) => (await agents.createAgent(alice.id, { name: 'spec agent', nodes, links })).agent.id;
  const run = async (agentId: string, inputs: Record<string, unknown>, waitMs = 5_000): Promise<Execution> => executions.executeAgent(alice.id, agentId, inputs, { waitMs });
  return { container, alice, bob, worker, executions, create, run };
}

const sorted = (values: unknown[] | undefined) => [...(values ?? [])].sort((a, b) => (a as number) - (b as number));
const until = async (check: () => Promise<boolean>, ms = 3_000) => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached');
};

describe('agent scheduling (memory adapters)', () => {
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await stop?.();
    stop = null;
  });
  const composed = async (options?: CoreModuleOptions, listener?: ExecutionLifecycleListener) => {
    const c = await compose(options, listener);
    stop = () => c.worker.stop();
    return c;
  };

  it('runs a chain and returns what reaches the output node', async () => {
    const { create, run } = await composed();
    const id = await create([input('in', 'x'), node('d1', 't.double'), node('d2', 't.double'), output('out', 'result')], [link('in', 'value', 'd1', 'x'), link('d1', 'y', 'd2', 'x'), link('d2', 'y', 'out', 'value')]);
    const done = await run(id, { x: 3 });
    expect(done.status).to.equal('completed');
    expect(done.outputs).to.deep.equal({ result: [12] });
    expect(done.agent).to.deep.equal({ id, version: 1 });
  });

  it('joins a diamond: the sink runs once, when both of its inputs have values', async () => {
    const { create, run } = await composed();
    calls['t.add'] = 0;
    const id = await create(
      [input('in', 'x'), node('left', 't.double'), node('right', 't.double'), node('join', 't.add'), output('out', 'sum')],
      [link('in', 'value', 'left', 'x'), link('in', 'value', 'right', 'x'), link('left', 'y', 'join', 'a'), link('right', 'y', 'join', 'b'), link('join', 'sum', 'out', 'value')],
    );
    const done = await run(id, { x: 5 });
    expect(done.outputs).to.deep.equal({ sum: [20] });
    expect(calls['t.add']).to.equal(1);
    expect(done.costUsd).to.equal(0.25);
  });

  it('fans out streamed outputs: each value runs the sink once', async () => {
    const { create, run, executions, alice } = await composed();
    const id = await create([input('in', 'n'), node('stream', 't.stream'), node('double', 't.double'), output('out', 'doubled')], [link('in', 'value', 'stream', 'n'), link('stream', 'item', 'double', 'x'), link('double', 'y', 'out', 'value')]);
    const done = await run(id, { n: 5 });
    expect(done.status).to.equal('completed');
    expect(sorted(done.outputs.doubled)).to.deep.equal([2, 4, 6, 8, 10]);
    const nodes = await executions.listNodeRuns(alice.id, done.id);
    expect(nodes.filter((r) => r.nodeId === 'double')).to.have.length(5);
    expect(nodes.find((r) => r.nodeId === 'stream')?.outputs).to.deep.equal({ item: [1, 2, 3, 4, 5] });
  });

  it('keeps a static link value for every run of its sink, whichever arrives first', async () => {
    const { create, run } = await composed();
    const id = await create(
      [input('prefix', 'prefix', str), input('in', 'n'), node('stream', 't.stream'), node('concat', 't.concat'), output('out', 'texts', str)],
      [link('prefix', 'value', 'concat', 'a', true), link('in', 'value', 'stream', 'n'), link('stream', 'item', 'concat', 'b'), link('concat', 'text', 'out', 'value')],
    );
    const done = await run(id, { prefix: 'item-', n: 3 });
    expect([...(done.outputs.texts as string[])].sort()).to.deep.equal(['item-1', 'item-2', 'item-3']);
  });

  it('fails the execution naming the failing node, and runs nothing after it', async () => {
    const { create, run } = await composed();
    calls['t.double'] = 0;
    const id = await create([input('in', 'x'), node('bad', 't.fail'), node('after', 't.double'), output('out', 'y')], [link('in', 'value', 'bad', 'x'), link('bad', 'y', 'after', 'x'), link('after', 'y', 'out', 'value')]);
    const done = await run(id, { x: 1 });
    expect(done.status).to.equal('failed');
    expect(done.error).to.equal('node bad (t.fail) failed: the upstream said no');
    expect(calls['t.double']).to.equal(0);
  });

  it('cancel aborts the running nodes and keeps the execution cancelled', async () => {
    const { create, executions, alice } = await composed();
    const id = await create([input('in', 'x'), node('h1', 't.hang'), node('h2', 't.hang')], [link('in', 'value', 'h1', 'x'), link('in', 'value', 'h2', 'x')]);
    const queued = await executions.executeAgent(alice.id, id, { x: 1 });
    await until(async () => (await executions.listNodeRuns(alice.id, queued.id)).filter((r) => r.status === 'running').length === 2);
    await executions.cancelExecution(alice.id, queued.id);
    await until(async () => (await executions.listNodeRuns(alice.id, queued.id)).every((r) => r.status !== 'running'));
    const runs = await executions.listNodeRuns(alice.id, queued.id);
    expect(runs.filter((r) => r.nodeId.startsWith('h')).map((r) => r.status)).to.deep.equal(['cancelled', 'cancelled']);
    expect((await executions.getExecution(alice.id, queued.id)).status).to.equal('cancelled');
  });

  it('fails an execution that runs past its time limit', async () => {
    const { create, run } = await composed({ agents: { executionTimeoutMs: 200 } });
    const id = await create([input('in', 'x'), node('h', 't.hang')], [link('in', 'value', 'h', 'x')]);
    const done = await run(id, { x: 1 });
    expect(done.status).to.equal('failed');
    expect(done.error).to.equal('execution timed out after 200 ms');
  });

  it('runs independent nodes concurrently, never more than the per-execution limit', async () => {
    const { create, run } = await composed({ agents: { maxConcurrentNodes: 3 } });
    maxRunning = 0;
    const nodes: AgentNode[] = [input('in', 'x')];
    const links: AgentLink[] = [];
    for (let i = 0; i < 10; i++) {
      nodes.push(node(`s${i}`, 't.slow'));
      links.push(link('in', 'value', `s${i}`, 'x'));
    }
    nodes.push(output('out', 'ys'));
    for (let i = 0; i < 10; i++) links.push(link(`s${i}`, 'y', 'out', 'value'));
    const done = await run(await create(nodes, links), { x: 7 });
    expect(done.outputs.ys).to.have.length(10);
    expect(maxRunning).to.equal(3);
  });

  it('drains its backlog with a limit of one node at a time, also for streamed values', async () => {
    const { create, run } = await composed({ agents: { maxConcurrentNodes: 1 } });
    const id = await create([input('in', 'n'), node('stream', 't.stream'), node('double', 't.double'), node('again', 't.double'), output('out', 'ys')], [link('in', 'value', 'stream', 'n'), link('stream', 'item', 'double', 'x'), link('double', 'y', 'again', 'x'), link('again', 'y', 'out', 'value')]);
    const done = await run(id, { n: 6 });
    expect(done.status).to.equal('completed');
    expect(sorted(done.outputs.ys)).to.deep.equal([4, 8, 12, 16, 20, 24]);
  });

  it('tells lifecycle listeners once when an agent execution starts and once when it finishes', async () => {
    const seen: string[] = [];
    const { create, run } = await composed(undefined, {
      started: async (e) => void seen.push(`started ${e.status}`),
      finished: async (e) => void seen.push(`finished ${e.status} ${JSON.stringify(e.outputs)}`),
    });
    const id = await create([input('in', 'x'), node('d', 't.double'), output('out', 'y')], [link('in', 'value', 'd', 'x'), link('d', 'y', 'out', 'value')]);
    await run(id, { x: 4 });
    await until(async () => seen.length === 2);
    expect(seen).to.deep.equal(['started running', 'finished completed {"y":[8]}']);
  });

  it('records each node run: status, inputs, outputs, cost and times', async () => {
    const { create, run, executions, alice } = await composed();
    const id = await create([input('a', 'a'), input('b', 'b'), node('add', 't.add'), output('out', 'sum')], [link('a', 'value', 'add', 'a'), link('b', 'value', 'add', 'b'), link('add', 'sum', 'out', 'value')]);
    const done = await run(id, { a: 1, b: 2 });
    const runs = await executions.listNodeRuns(alice.id, done.id);
    const add = runs.find((r) => r.nodeId === 'add')!;
    expect(add).to.deep.include({ status: 'completed', inputs: { a: 1, b: 2 }, outputs: { sum: [3] }, costUsd: 0.25, error: null, attempts: 1 });
    expect(add.startedAt).to.be.instanceOf(Date);
    expect(add.completedAt!.getTime()).to.be.at.least(add.startedAt!.getTime());
    expect(runs.filter((r) => r.nodeId === 'a' || r.nodeId === 'b').map((r) => r.status)).to.deep.equal(['completed', 'completed']);
  });

  it('never re-runs a finished node when its job is delivered again', async () => {
    const { create, run, container, executions, alice } = await composed();
    const id = await create([input('in', 'x'), node('d', 't.double'), output('out', 'y')], [link('in', 'value', 'd', 'x'), link('d', 'y', 'out', 'value')]);
    calls['t.double'] = 0;
    const done = await run(id, { x: 2 });
    const d = (await executions.listNodeRuns(alice.id, done.id)).find((r) => r.nodeId === 'd')!;
    await container.get(ExecutionRunner).runJob({ executionId: done.id, nodeRunId: d.id, token: d.token ?? undefined }, 2);
    await container.get(ExecutionRunner).runJob({ executionId: done.id, nodeRunId: d.id, token: 'a-duplicate-job' }, 1);
    expect(calls['t.double']).to.equal(1);
    expect((await executions.getExecution(alice.id, done.id)).outputs).to.deep.equal({ y: [4] });
  });

  it('runs a trigger node with the payload it is given', async () => {
    const { create, executions, alice } = await composed();
    const id = await create([node('hook', 't.on_event'), output('out', 'action', str)], [link('hook', 'action', 'out', 'value')]);
    const done = await executions.executeAgent(alice.id, id, {}, { waitMs: 5_000, trigger: { nodeId: 'hook', payload: { action: 'opened' } } });
    expect(done.outputs).to.deep.equal({ action: ['opened'] });
  });

  it("rejects inputs that do not fit the agent's input schema, and another user's agent", async () => {
    const { create, executions, alice, bob } = await composed();
    const id = await create([input('in', 'x'), node('d', 't.double')], [link('in', 'value', 'd', 'x')]);
    const kind = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (DomainError.is(e) ? `${e.kind}: ${e.message}` : String(e)));
    expect(await kind(executions.executeAgent(alice.id, id, { x: 'three' }))).to.match(/^invalid_input: invalid inputs for agent .*\/x/);
    expect(await kind(executions.executeAgent(alice.id, id, {}))).to.match(/^invalid_input: .*x/);
    expect(await kind(executions.executeAgent(bob.id, id, { x: 1 }))).to.equal(`not_found: agent ${id} not found`);
  });
});
