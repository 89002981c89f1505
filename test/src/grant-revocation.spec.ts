// Revoking a grant while an app's agent execution goes through it, in one process on the memory
// adapters and the real secret cipher: node runs that would use the grant's credential after the
// revocation refuse it (and fail the execution, naming the node and the grant), revoking through
// GrantService also fails the app's running executions at once, and the user's own executions of
// the same agent are not concerned. Nothing here waits on time: a gate block holds the first node.
import { expect } from 'chai';
import type { Container } from 'inversify';
import {
  AgentService,
  ExecutionRepository,
  ExecutionService,
  ExecutionWorker,
  ExternalExecutionService,
  GrantService,
  type AgentLink,
  type AgentNode,
  type Block,
  type Execution,
  type Grant,
  type ResolvedCredential,
} from '@blockyard/core';
import { acmeBlock, composeAppWithCredential } from './support/app-grants.js';

/** The first node: waits until the test opens the gate (or the run is cancelled). */
class Gate {
  entered!: Promise<void>;
  aborted = false;
  #enter!: () => void;
  #open!: () => void;
  #opened!: Promise<void>;
  constructor() {
    this.reset();
  }
  reset(): void {
    this.aborted = false;
    this.entered = new Promise((resolve) => (this.#enter = resolve));
    this.#opened = new Promise((resolve) => (this.#open = resolve));
  }
  open(): void {
    this.#open();
  }
  readonly block: Block = {
    definition: { id: 't.gate', name: 'Gate', description: '', categories: [], input_schema: { type: 'object', required: ['x'], properties: { x: { type: 'string' } } }, output_schema: { type: 'object', properties: { y: { type: 'string' } } } },
    handler: async ({ x }, ctx) => {
      this.#enter();
      await new Promise<void>((resolve, reject) => {
        void this.#opened.then(resolve);
        ctx.signal.addEventListener('abort', () => {
          this.aborted = true;
          reject(ctx.signal.reason);
        });
      });
      return { data: { y: x } };
    },
  };
}

const gate = new Gate();
/** What the credential-using block was given, one entry per run. */
const seen: Array<ResolvedCredential | null> = [];
const acmeRead = acmeBlock('acme.read', 'read', ['acme:read'], seen);

const str = { type: 'string' } as const;
const graph = (credentialId: string): { nodes: AgentNode[]; links: AgentLink[] } => ({
  nodes: [
    { id: 'in', kind: 'input', name: 'x', schema: str, required: true },
    { id: 'slow', kind: 'block', blockId: 't.gate', inputs: {}, credentials: {} },
    { id: 'read', kind: 'block', blockId: 'acme.read', inputs: {}, credentials: { credentials: credentialId } },
    { id: 'out', kind: 'output', name: 'text', schema: str },
  ],
  links: [
    { sourceNodeId: 'in', sourceOutput: 'value', sinkNodeId: 'slow', sinkInput: 'x', static: false },
    { sourceNodeId: 'slow', sourceOutput: 'y', sinkNodeId: 'read', sinkInput: 'q', static: false },
    { sourceNodeId: 'read', sourceOutput: 'text', sinkNodeId: 'out', sinkInput: 'value', static: false },
  ],
});

async function compose() {
  const finishedEvents: Execution[] = [];
  const { container, grantRepo, grantReads, alice, credential, clientId, actor } = await composeAppWithCredential({
    blocks: [gate.block, acmeRead],
    scopes: ['acme:read'],
    clientId: 'app_reader',
    clientName: 'Reader',
    listeners: [{ finished: async (e: Execution) => void finishedEvents.push(e) }],
  });
  const grant: Grant = { id: 'grant-reader', userId: alice.id, clientId, credentialId: credential.id, provider: 'acme', scopes: ['acme:read'], createdAt: new Date(), lastUsedAt: null, revokedAt: null };
  await grantRepo.create(grant);
  const agentId = (await container.get(AgentService).createAgent(alice.id, { name: 'Read after a slow step', ...graph(credential.id) })).agent.id;
  const worker = container.get(ExecutionWorker);
  worker.start();
  const executions = container.get(ExecutionService);
  return {
    container,
    alice,
    credential,
    grant,
    grantRepo,
    grantReads,
    finishedEvents,
    agentId,
    worker,
    executions,
    external: container.get(ExternalExecutionService),
    grants: container.get(GrantService),
    actor,
    /** The app's execution of the agent, through its grant. */
    executeAsApp: async () => (await container.get(ExternalExecutionService).executeAgent(actor, agentId, { inputs: { x: 'notes' } })).execution,
    finished: (id: string) => executions.waitForExecution(alice.id, id, 10_000),
    nodeRun: async (executionId: string, nodeId: string) => (await executions.listNodeRuns(alice.id, executionId)).find((r) => r.nodeId === nodeId),
  };
}

describe('grant revocation during an execution (memory adapters)', () => {
  let stop: (() => Promise<void>) | null = null;
  beforeEach(() => {
    gate.reset();
    seen.length = 0;
  });
  afterEach(async () => {
    gate.open();
    await stop?.();
    stop = null;
  });
  const executions = (container: Container) => container.get(ExecutionService);
  const composed = async () => {
    const c = await compose();
    stop = () => c.worker.stop();
    return c;
  };

  it("stores the grants an app's execution goes through, and none for the user's own", async () => {
    const { executeAsApp, executions, alice, agentId, container } = await composed();
    gate.open();
    const viaApp = await executeAsApp();
    const own = await executions.executeAgent(alice.id, agentId, { x: 'own' });
    const repo = container.get<ExecutionRepository>(ExecutionRepository);
    expect((await repo.get(viaApp.id))?.grantIds).to.deep.equal(['grant-reader']);
    expect(await repo.get(own.id)).to.not.have.property('grantIds');
  });

  it('a live grant: the node using its credential reads the grant once and runs with the credential', async () => {
    const { executeAsApp, finished, grantReads } = await composed();
    gate.open();
    const done = await finished((await executeAsApp()).id);
    expect(done.status, done.error ?? '').to.equal('completed');
    expect(done.outputs).to.deep.equal({ text: ['read notes'] });
    expect(seen).to.deep.equal([{ kind: 'api_key', api_key: 'acme-secret-key' }]);
    // The credential-less first node read no grant.
    expect(grantReads).to.deep.equal(['grant-reader']);
  });

  it('a grant revoked in storage after the execution started: the queued node refuses the credential, failing with the revocation, and the execution with it', async () => {
    const { executeAsApp, finished, grantRepo, grant, nodeRun, finishedEvents } = await composed();
    const execution = await executeAsApp();
    await gate.entered;
    // Only storage knows: as when another process revoked it, or its revoker died before telling executions.
    expect(await grantRepo.revoke(grant.id, new Date())).to.not.equal(null);
    gate.open();
    const done = await finished(execution.id);
    expect(done.status).to.equal('failed');
    expect(done.error).to.equal(`node read (acme.read) failed: grant ${grant.id} was revoked`);
    const read = await nodeRun(execution.id, 'read');
    expect(read).to.deep.include({ status: 'failed', error: `grant ${grant.id} was revoked` });
    expect((await nodeRun(execution.id, 'slow'))?.status).to.equal('completed');
    expect(seen, 'the credential-using block never ran').to.deep.equal([]);
    expect(finishedEvents.map((e) => [e.id, e.status])).to.deep.include([execution.id, 'failed']);
  });

  it('revoked by its user through GrantService: the running execution fails at once, its running node is stopped, and no node gets the credential', async () => {
    const { executeAsApp, finished, grants, alice, grant, nodeRun, finishedEvents } = await composed();
    const execution = await executeAsApp();
    await gate.entered;
    const revoked = await grants.revokeForUser(alice.id, grant.id);
    expect(revoked.revokedAt).to.be.instanceOf(Date);
    // The gate is never opened: only the cancel the revocation requested ends the first node.
    const done = await finished(execution.id);
    expect(done.status).to.equal('failed');
    expect(done.error).to.equal(`grant ${grant.id} was revoked`);
    expect(finishedEvents.filter((e) => e.id === execution.id).map((e) => e.status)).to.deep.equal(['failed']);
    for (let i = 0; i < 500 && !gate.aborted; i++) await new Promise((r) => setTimeout(r, 10));
    expect(gate.aborted, 'the running node was asked to stop').to.equal(true);
    expect(await nodeRun(execution.id, 'read')).to.equal(undefined);
    expect(seen).to.deep.equal([]);
  });

  it("the user's own execution of the same agent is not concerned by the app's revoked grant, and reads no grant", async () => {
    const { executions, alice, agentId, grants, grant, finished, grantReads, executeAsApp } = await composed();
    const appExecution = await executeAsApp();
    await gate.entered;
    await grants.revokeForUser(alice.id, grant.id);
    expect((await finished(appExecution.id)).status).to.equal('failed');
    gate.reset();
    gate.open();
    grantReads.length = 0;
    const own = await executions.executeAgent(alice.id, agentId, { x: 'mine' });
    const done = await finished(own.id);
    expect(done.status, done.error ?? '').to.equal('completed');
    expect(done.outputs).to.deep.equal({ text: ['read mine'] });
    expect(seen).to.deep.equal([{ kind: 'api_key', api_key: 'acme-secret-key' }]);
    expect(grantReads).to.deep.equal([]);
  });

  it("an execution through another grant on the same credential goes on when the first grant is revoked", async () => {
    const { external, actor, agentId, grants, alice, grant, grantRepo, finished, container } = await composed();
    await grantRepo.create({ ...grant, id: 'grant-second', createdAt: new Date() });
    const { execution } = await external.executeAgent(actor, agentId, { inputs: { x: 'other' }, grantIds: ['grant-second'] });
    expect((await container.get<ExecutionRepository>(ExecutionRepository).get(execution.id))?.grantIds).to.deep.equal(['grant-second']);
    await gate.entered;
    await grants.revokeForUser(alice.id, grant.id);
    expect((await executions(container).getExecution(alice.id, execution.id)).status).to.equal('running');
    gate.open();
    const done = await finished(execution.id);
    expect(done.status, done.error ?? '').to.equal('completed');
    expect(seen).to.deep.equal([{ kind: 'api_key', api_key: 'acme-secret-key' }]);
  });
});
