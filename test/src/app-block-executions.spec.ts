// An app's block executions (POST /api/v1/blocks/:id/execute with its access token), in one
// process on the memory adapters and the real secret cipher: ExternalExecutionService.executeBlock
// lets a credential be used only through a live grant of the app covering the block's scopes,
// stores the grant with the execution and records it as the app's; the runner reads that grant
// again before it resolves the credential, so that a grant revoked while the execution waits in
// the queue keeps the credential from it. The user's own executions read no grant. Also the
// connect flow's authorization check (GrantService.checkConnectAuthorized).
import { expect } from 'chai';
import {
  AgentService,
  ConnectError,
  ExecutionRepository,
  ExecutionService,
  ExecutionWorker,
  ExternalExecutionRepository,
  ExternalExecutionService,
  NotFoundError,
  GrantService,
  PermissionError,
  type AgentLink,
  type AgentNode,
  type AppAuthorizations,
  type Block,
  type ConnectRequest,
  type Grant,
  type ResolvedCredential,
} from '@blockyard/core';
import { acmeBlock, composeAppWithCredential } from './support/app-grants.js';

/** What the credential-using block was given, one entry per run. */
const seen: Array<ResolvedCredential | null> = [];
const acmeWrite = acmeBlock('acme.write', 'wrote', ['acme:read', 'acme:write'], seen);
const plain: Block = {
  definition: { id: 't.plain', name: 'Plain', description: '', categories: [], input_schema: { type: 'object', required: ['q'], properties: { q: { type: 'string' } } }, output_schema: { type: 'object', properties: { text: { type: 'string' } } } },
  handler: async ({ q }) => ({ data: { text: q as string } }),
};

async function compose() {
  const { container, grantRepo, grantReads, alice, credential, clientId, actor } = await composeAppWithCredential({
    blocks: [acmeWrite, plain],
    scopes: ['acme:read', 'acme:write'],
    clientId: 'app_writer',
    clientName: 'Writer',
  });
  const grant = (id: string, scopes: string[], client = clientId): Grant => ({ id, userId: alice.id, clientId: client, credentialId: credential.id, provider: 'acme', scopes, createdAt: new Date(), lastUsedAt: null, revokedAt: null });
  const executions = container.get(ExecutionService);
  return {
    container,
    alice,
    credential,
    grant,
    grantRepo,
    grantReads,
    actor,
    executions,
    external: container.get(ExternalExecutionService),
    stored: (id: string) => container.get<ExecutionRepository>(ExecutionRepository).get(id),
    record: (id: string) => container.get<ExternalExecutionRepository>(ExternalExecutionRepository).get(id),
    worker: container.get(ExecutionWorker),
    finished: (id: string) => executions.waitForExecution(alice.id, id, 10_000),
    inputs: (q: string) => ({ q, credentials: { id: credential.id } }),
  };
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

describe("an app's block executions through its grants (memory adapters)", () => {
  let stop: (() => Promise<void>) | null = null;
  beforeEach(() => {
    seen.length = 0;
  });
  afterEach(async () => {
    await stop?.();
    stop = null;
  });
  const composed = async () => {
    const c = await compose();
    stop = () => c.worker.stop();
    return c;
  };

  it('refuses a credential the app holds no live grant for, or only a grant not covering the block\'s scopes, or only another app\'s (Grant validation failed), storing nothing', async () => {
    const { external, actor, inputs, grantRepo, grant, container } = await composed();
    const none = await refusal(external.executeBlock(actor, 'acme.write', inputs('x')));
    expect(none).to.be.instanceOf(PermissionError);
    expect(none.message).to.match(/^Grant validation failed: No valid grants found for requested integrations: block acme\.write/);

    await grantRepo.create(grant('grant-other-app', ['acme:read', 'acme:write'], 'app_other'));
    await grantRepo.create(grant('grant-read-only', ['acme:read']));
    const narrow = await refusal(external.executeBlock(actor, 'acme.write', inputs('x')));
    expect(narrow).to.be.instanceOf(PermissionError);
    expect(narrow.message).to.equal('Grant validation failed: block acme.write needs acme scope(s) acme:write that no grant of this app covers (granted: acme:read)');

    await grantRepo.revoke('grant-read-only', new Date());
    await grantRepo.create(grant('grant-revoked', ['acme:read', 'acme:write']));
    await grantRepo.revoke('grant-revoked', new Date());
    expect((await refusal(external.executeBlock(actor, 'acme.write', inputs('x')))).message).to.match(/^Grant validation failed: No valid grants/);
    expect(await container.get<ExecutionRepository>(ExecutionRepository).listByStatus(['queued', 'running', 'completed', 'failed'], 100)).to.deep.equal([]);
  });

  it("runs through a covering grant: the execution carries the grant, is recorded as the app's, and the runner reads the grant before using the credential", async () => {
    const { external, actor, inputs, grantRepo, grant, worker, finished, stored, record, grantReads } = await composed();
    await grantRepo.create(grant('grant-full', ['acme:read', 'acme:write']));
    worker.start();
    const execution = await external.executeBlock(actor, 'acme.write', inputs('notes'));
    expect((await stored(execution.id))?.grantIds).to.deep.equal(['grant-full']);
    expect(await record(execution.id)).to.deep.include({ clientId: actor.clientId, userId: actor.userId, idempotencyKey: null });
    const done = await finished(execution.id);
    expect(done.status, done.error ?? '').to.equal('completed');
    expect(done.outputs).to.deep.equal({ text: ['wrote notes'] });
    expect(seen).to.deep.equal([{ kind: 'api_key', api_key: 'acme-secret-key' }]);
    expect(grantReads).to.deep.equal(['grant-full']);
    expect((await grantRepo.get('grant-full'))?.lastUsedAt).to.be.instanceOf(Date);
    expect(await external.getExecution(actor, execution.id)).to.deep.include({ id: execution.id });
  });

  it('a grant revoked in storage while the execution is queued: the runner fails it naming the grant, and the block never gets the credential', async () => {
    const { external, actor, inputs, grantRepo, grant, worker, finished } = await composed();
    await grantRepo.create(grant('grant-full', ['acme:read', 'acme:write']));
    const execution = await external.executeBlock(actor, 'acme.write', inputs('late'));
    expect(execution.status).to.equal('queued');
    // Only storage knows (as when another process revoked it): the worker starts after.
    await grantRepo.revoke('grant-full', new Date());
    worker.start();
    const done = await finished(execution.id);
    expect(done.status).to.equal('failed');
    expect(done.error).to.equal('grant grant-full was revoked');
    expect(seen).to.deep.equal([]);
  });

  it('revoked by its user through GrantService while queued: the execution fails at once', async () => {
    const { external, actor, inputs, grantRepo, grant, container, alice, stored } = await composed();
    await grantRepo.create(grant('grant-full', ['acme:read', 'acme:write']));
    const execution = await external.executeBlock(actor, 'acme.write', inputs('late'));
    await container.get(GrantService).revokeForUser(alice.id, 'grant-full');
    expect(await stored(execution.id)).to.deep.include({ status: 'failed', error: 'grant grant-full was revoked' });
  });

  it('needs no grant for a block without a credential, and the execution reads none', async () => {
    const { external, actor, worker, finished, grantReads, stored } = await composed();
    worker.start();
    const execution = await external.executeBlock(actor, 't.plain', { q: 'hi' });
    expect((await stored(execution.id))?.grantIds).to.deep.equal([]); // an app's, through no grant
    expect((await finished(execution.id)).status).to.equal('completed');
    expect(grantReads).to.deep.equal([]);
  });

  it("the user's own block execution with the same credential needs no grant and reads none", async () => {
    const { executions, alice, inputs, worker, finished, grantReads, stored } = await composed();
    worker.start();
    const execution = await executions.executeBlock(alice.id, 'acme.write', inputs('mine'));
    expect(await stored(execution.id)).to.not.have.property('grantIds');
    expect((await finished(execution.id)).status).to.equal('completed');
    expect(seen).to.deep.equal([{ kind: 'api_key', api_key: 'acme-secret-key' }]);
    expect(grantReads).to.deep.equal([]);
  });
});

describe("an app's agent executions through /api/v1 (ExternalExecutionService.executeAgentWaiting)", () => {
  const str = { type: 'string' } as const;
  const graph = (blockId: string, credentials: Record<string, string>): { nodes: AgentNode[]; links: AgentLink[] } => ({
    nodes: [
      { id: 'in', kind: 'input', name: 'q', schema: str, required: true },
      { id: 'step', kind: 'block', blockId, inputs: {}, credentials },
      { id: 'out', kind: 'output', name: 'text', schema: str },
    ],
    links: [
      { sourceNodeId: 'in', sourceOutput: 'value', sinkNodeId: 'step', sinkInput: 'q', static: false },
      { sourceNodeId: 'step', sourceOutput: 'text', sinkNodeId: 'out', sinkInput: 'value', static: false },
    ],
  });
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await stop?.();
    stop = null;
  });

  it('validates the grants of the version it runs, waits for it, and records it as the app\'s', async () => {
    seen.length = 0;
    const c = await compose();
    stop = () => c.worker.stop();
    c.worker.start();
    const agents = c.container.get(AgentService);
    // Version 1 writes with the user's credential; version 2 needs none.
    const created = await agents.createAgent(c.alice.id, { name: 'two versions', ...graph('acme.write', { credentials: c.credential.id }) });
    const agentId = created.agent.id;
    await agents.updateAgent(c.alice.id, agentId, { name: 'two versions', ...graph('t.plain', {}), version: 1 });

    const v1 = await refusal(c.external.executeAgentWaiting(c.actor, agentId, { q: 'x' }, { version: 1 }));
    expect(v1).to.be.instanceOf(PermissionError);
    expect(v1.message).to.match(/^Grant validation failed: No valid grants found for requested integrations: node "step"/);
    expect(await refusal(c.external.executeAgentWaiting(c.actor, agentId, { q: 'x' }, { version: 3 }))).to.be.instanceOf(NotFoundError);

    const latest = await c.external.executeAgentWaiting(c.actor, agentId, { q: 'plain' }, { waitMs: 10_000 });
    expect(latest).to.deep.include({ status: 'completed', agent: { id: agentId, version: 2 } });
    expect(latest.outputs).to.deep.equal({ text: ['plain'] });
    expect(await c.record(latest.id)).to.deep.include({ clientId: c.actor.clientId, userId: c.actor.userId });

    // With a covering grant, version 1 runs too, carrying the grant.
    await c.grantRepo.create(c.grant('grant-full', ['acme:read', 'acme:write']));
    const granted = await c.external.executeAgentWaiting(c.actor, agentId, { q: 'notes' }, { version: 1, waitMs: 10_000 });
    expect(granted.status, granted.error ?? '').to.equal('completed');
    expect(granted.grantIds).to.deep.equal(['grant-full']);
    expect(seen).to.deep.equal([{ kind: 'api_key', api_key: 'acme-secret-key' }]);
  });
});

describe('GrantService.checkConnectAuthorized (the connect flow needs integrations:connect)', () => {
  const request = { client: { id: 'app_x', name: 'X App' }, provider: { name: 'acme' }, scopes: ['acme:read'], nonce: 'n-1', redirectOrigin: 'https://x.example' } as unknown as ConnectRequest;
  const serviceWith = async (authorizations: AppAuthorizations | null) => {
    const { container } = await compose();
    const deps = (container.get(GrantService) as unknown as { deps: Record<string, unknown> }).deps;
    return new GrantService({ ...(deps as unknown as ConstructorParameters<typeof GrantService>[0]), authorizations });
  };

  it('passes when the user authorized the app with integrations:connect, asking for exactly that', async () => {
    const asked: unknown[] = [];
    const service = await serviceWith({ hasAuthorized: async (...args) => (asked.push(args), true) });
    await service.checkConnectAuthorized('user-1', request);
    expect(asked).to.deep.equal([['user-1', 'app_x', 'integrations:connect']]);
  });

  it('refuses with access_denied, to be posted to the verified origin with the nonce, when not authorized or when it cannot be checked', async () => {
    for (const authorizations of [{ hasAuthorized: async () => false }, null]) {
      const service = await serviceWith(authorizations);
      const error = await refusal(service.checkConnectAuthorized('user-1', request));
      expect(error).to.be.instanceOf(ConnectError);
      expect(error).to.deep.include({ error: 'access_denied', origin: 'https://x.example', nonce: 'n-1' });
      expect(error.message).to.contain('X App may not ask for your integrations');
    }
  });
});
