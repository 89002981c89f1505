import { expect } from 'chai';
import type { CredentialRequirement, ProviderDefinition } from '@blockyard/contracts';
import type { Agent, AgentGraph, AgentVersion, BlockNode } from '../agent/agent.js';
import type { AgentRepository } from '../agent/agent.repository.port.js';
import type { BlockRegistry } from '../block/block-registry.port.js';
import { DomainError, NotFoundError } from '../errors/domain.errors.js';
import { newExecution, type Execution } from '../execution/execution.js';
import { InMemoryExecutionWebhookTargets } from '../grant/execution-webhook-targets.port.js';
import { appFixture, clientsMock, credentialFixtureFor, CredentialRepositoryMock, ExternalExecutionRepositoryMock, GrantRepositoryMock } from '../grant/grant.mocks.js';
import type { Grant } from '../grant/grant.js';
import { ProviderRegistry } from '../provider/provider-registry.js';
import { FakeClock } from '../system/clock.port.js';
import { SequentialIdGenerator } from '../system/id-generator.port.js';
import { silentLogger } from '../system/logger.port.js';
import type { ExecuteAgentOptions, ExecutionService } from './execution.service.js';
import { ExternalExecutionService } from './external-execution.service.js';
import { GrantService } from './grant.service.js';

const github: ProviderDefinition = { name: 'github', display_name: 'GitHub', auth: [{ type: 'api_key', in: 'header', name: 'Authorization' }], integration_scopes: { 'github:repo.read': [], 'github:repo.write': [] } };
const requirements: Record<string, CredentialRequirement | undefined> = {
  't.echo': undefined,
  't.read': { provider: 'github', kinds: ['api_key', 'oauth2'], scopes: ['github:repo.read'] },
  't.write': { provider: 'github', kinds: ['api_key', 'oauth2'], scopes: ['github:repo.write'] },
  't.system': { provider: 'system', kinds: ['api_key'], scopes: [] },
};
const registry = { get: (id: string) => (id in requirements ? { definition: { id, credentials: requirements[id] } } : undefined) } as unknown as BlockRegistry;

const blockNode = (id: string, blockId: string, credential?: string): BlockNode => ({ id, kind: 'block', blockId, inputs: {}, credentials: credential ? { credentials: credential } : {} });

/** Agents in Maps: owner and one version each. */
function agentsMock(): AgentRepository & { put(id: string, userId: string, nodes: BlockNode[]): void } {
  const agents = new Map<string, Agent>();
  const versions = new Map<string, AgentVersion>();
  return {
    put(id, userId, nodes) {
      agents.set(id, { id, userId, name: id, description: '', version: 1, createdAt: new Date(0), updatedAt: new Date(0) });
      versions.set(id, { agentId: id, version: 1, name: id, description: '', createdAt: new Date(0), nodes, links: [] });
    },
    get: async (id) => agents.get(id) ?? null,
    getVersion: async (id, version) => (version === 1 ? (versions.get(id) ?? null) : null),
    create: async () => {},
    addVersion: async () => {
      throw new Error('not used');
    },
    listByUser: async () => [],
    delete: async () => false,
  };
}

/** What the external service asks of the ExecutionService: executions kept in a Map. */
class ExecutionServiceMock {
  readonly rows = new Map<string, Execution>();
  readonly calls: Array<{ userId: string; agentId: string; inputs: Record<string, unknown>; options: ExecuteAgentOptions }> = [];
  failNext: Error | null = null;
  constructor(private readonly agents: AgentRepository) {}
  async agentGraph(agentId: string, version: number): Promise<AgentGraph> {
    const graph = await this.agents.getVersion(agentId, version);
    if (!graph) throw new NotFoundError(`agent ${agentId} has no version ${version}`);
    return graph;
  }
  async executeAgent(userId: string, agentId: string, inputs: Record<string, unknown>, options: ExecuteAgentOptions = {}): Promise<Execution> {
    this.calls.push({ userId, agentId, inputs, options });
    // As the real one: the caller's writes beside the first commit, nothing stored when they fail.
    await options.alongside?.();
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    const execution = newExecution({ id: options.executionId!, userId, blockId: '', inputs, now: new Date(0), agent: { id: agentId, version: options.version ?? 1 } });
    this.rows.set(execution.id, execution);
    return execution;
  }
  async getExecution(userId: string, id: string): Promise<Execution> {
    const e = this.rows.get(id);
    if (!e || e.userId !== userId) throw new NotFoundError(`execution ${id} not found`);
    return e;
  }
  async cancelExecution(userId: string, id: string): Promise<Execution> {
    const e = await this.getExecution(userId, id);
    const cancelled = { ...e, status: 'cancelled' as const };
    this.rows.set(id, cancelled);
    return cancelled;
  }
}

async function errorOf(promise: Promise<unknown>): Promise<DomainError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as DomainError,
  );
}

describe('ExternalExecutionService', () => {
  const app = appFixture();
  const otherApp = appFixture({ id: 'app_other' });
  const ann = { userId: 'u-ann', clientId: app.id };
  let grantsRepo: GrantRepositoryMock;
  let records: ExternalExecutionRepositoryMock;
  let executions: ExecutionServiceMock;
  let targets: InMemoryExecutionWebhookTargets;
  let agents: ReturnType<typeof agentsMock>;
  let clock: FakeClock;
  let service: ExternalExecutionService;
  let readGrant: Grant;

  const grant = (overrides: Partial<Grant>): Grant => ({
    id: `g-${Math.random().toString(36).slice(2)}`,
    userId: 'u-ann',
    clientId: app.id,
    credentialId: 'cred-gh',
    provider: 'github',
    scopes: ['github:repo.read'],
    createdAt: new Date(0),
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  });

  beforeEach(async () => {
    grantsRepo = new GrantRepositoryMock();
    records = new ExternalExecutionRepositoryMock();
    agents = agentsMock();
    executions = new ExecutionServiceMock(agents);
    targets = new InMemoryExecutionWebhookTargets();
    clock = new FakeClock('2026-03-01T10:00:00.000Z');
    const credentials = new CredentialRepositoryMock();
    await credentials.create(credentialFixtureFor({ id: 'cred-gh', userId: 'u-ann', kind: 'api_key' }));
    await credentials.create(credentialFixtureFor({ id: 'cred-gh-2', userId: 'u-ann', kind: 'api_key' }));
    const providers = new ProviderRegistry();
    providers.registerAll([github], 'spec');
    const clients = clientsMock(app, otherApp);
    const ids = new SequentialIdGenerator('x');
    const grants = new GrantService({ grants: grantsRepo, clients, credentials, providers, credentialDeleter: { deleteCredential: async () => ({ id: '', deleted: true, revoked: null }) }, events: { revoked: async () => {} }, clock, ids, logger: silentLogger });
    service = new ExternalExecutionService({
      grants,
      records,
      clients,
      agents,
      registry,
      executions: executions as unknown as ExecutionService,
      webhookTargets: targets,
      systemProviders: () => ['system'],
      clock,
      ids,
      logger: silentLogger,
    });
    agents.put('agent-read', 'u-ann', [blockNode('echo', 't.echo'), blockNode('reader', 't.read', 'cred-gh')]);
    agents.put('agent-write', 'u-ann', [blockNode('writer', 't.write', 'cred-gh')]);
    agents.put('agent-system', 'u-ann', [blockNode('sys', 't.system')]);
    agents.put('agent-unnamed', 'u-ann', [blockNode('reader', 't.read')]);
    agents.put('agent-bob', 'u-bob', [blockNode('echo', 't.echo')]);
    readGrant = grant({ id: 'g-read' });
    await grantsRepo.create(readGrant);
  });

  describe('executeAgent', () => {
    it('runs an agent whose credential a live grant of the app covers, recording it as the app\'s and the grant as used', async () => {
      const { execution, replayed, grants } = await service.executeAgent(ann, 'agent-read', { inputs: { q: 1 } });
      expect(replayed).to.equal(false);
      expect(grants.map((g) => g.id)).to.deep.equal(['g-read']);
      expect(executions.calls).to.have.length(1);
      expect(executions.calls[0]).to.deep.include({ userId: 'u-ann', agentId: 'agent-read', inputs: { q: 1 } });
      expect(executions.calls[0]!.options).to.deep.include({ version: 1, executionId: execution.id, grantIds: ['g-read'] });
      expect(executions.calls[0]!.options.agent?.id).to.equal('agent-read');
      expect(await records.get(execution.id)).to.deep.include({ clientId: app.id, userId: 'u-ann', idempotencyKey: null });
      expect(grantsRepo.rows.get('g-read')?.lastUsedAt).to.deep.equal(clock.now());
    });

    it('needs no grant for a node using its provider\'s system credential, nor for blocks without credentials', async () => {
      const { grants } = await service.executeAgent(ann, 'agent-system', { inputs: {} });
      expect(grants).to.deep.equal([]);
    });

    const refusals: Array<[string, () => Promise<unknown>, RegExp]> = [
      ['without any grant', async () => grantsRepo.rows.clear(), /No valid grants found for requested integrations: node "reader" uses a github credential this app holds no live grant for/],
      ['with a revoked grant', async () => grantsRepo.revoke('g-read', new Date(0)), /no live grant/],
      ["with another app's grant only", async () => (grantsRepo.rows.clear(), grantsRepo.create(grant({ clientId: otherApp.id }))), /no live grant/],
      ['with a grant on another credential', async () => (grantsRepo.rows.clear(), grantsRepo.create(grant({ credentialId: 'cred-gh-2' }))), /no live grant/],
    ];
    for (const [name, arrange, message] of refusals) {
      it(`refuses ${name}: 403 "Grant validation failed: ...", starting nothing`, async () => {
        await arrange();
        const e = await errorOf(service.executeAgent(ann, 'agent-read', { inputs: {} }));
        expect(DomainError.is(e, 'forbidden')).to.equal(true);
        expect(e.message).to.match(/^Grant validation failed: /).and.match(message);
        expect(executions.calls).to.deep.equal([]);
        expect(records.rows.size).to.equal(0);
      });
    }

    it('refuses a grant whose scopes do not cover the block, naming the missing scope', async () => {
      const e = await errorOf(service.executeAgent(ann, 'agent-write', { inputs: {} }));
      expect(e.message).to.equal('Grant validation failed: node "writer" needs github scope(s) github:repo.write that no grant of this app covers (granted: github:repo.read)');
    });

    it('refuses a node naming no credential when its provider has no system credential', async () => {
      const e = await errorOf(service.executeAgent(ann, 'agent-unnamed', { inputs: {} }));
      expect(e.message).to.equal('Grant validation failed: node "reader" needs a github credential and names none');
    });

    it('uses only the grants named in grant_ids, each of which must be a live grant of the app for this user', async () => {
      await grantsRepo.create(grant({ id: 'g-other-app', clientId: otherApp.id }));
      await grantsRepo.create(grant({ id: 'g-bob', userId: 'u-bob' }));
      await grantsRepo.create(grant({ id: 'g-unrelated', credentialId: 'cred-gh-2' }));
      for (const id of ['g-other-app', 'g-bob', 'g-unknown']) {
        const e = await errorOf(service.executeAgent(ann, 'agent-read', { inputs: {}, grantIds: [id] }));
        expect(e.message).to.equal(`Grant validation failed: grant ${id} is not a live grant of this app for this user`);
      }
      const e = await errorOf(service.executeAgent(ann, 'agent-read', { inputs: {}, grantIds: ['g-unrelated'] }));
      expect(e.message).to.match(/no live grant for among grant_ids/);
      expect((await service.executeAgent(ann, 'agent-read', { inputs: {}, grantIds: ['g-read'] })).grants.map((g) => g.id)).to.deep.equal(['g-read']);
    });

    it("answers 404 for an unknown or another user's agent", async () => {
      for (const id of ['agent-none', 'agent-bob']) expect(DomainError.is(await errorOf(service.executeAgent(ann, id, { inputs: {} })), 'not_found'), id).to.equal(true);
    });

    it("checks webhook_url against the app's webhook domains (422) and stores the target before the execution starts", async () => {
      for (const url of ['http://app.example.com/hook', 'https://evil.example/hook', 'https://app.example.com.evil.example/h', 'ftp://app.example.com/h', 'https://user:pw@app.example.com/h', 'not a url']) {
        const e = await errorOf(service.executeAgent(ann, 'agent-read', { inputs: {}, webhookUrl: url }));
        expect(DomainError.is(e, 'invalid_input'), url).to.equal(true);
        expect(e.message).to.match(/^webhook_url /);
      }
      expect(executions.calls).to.deep.equal([]);
      const { execution } = await service.executeAgent(ann, 'agent-read', { inputs: {}, webhookUrl: 'https://x.hooks.example.com/blockyard' });
      expect(await targets.get(execution.id)).to.deep.equal({ executionId: execution.id, clientId: app.id, webhookUrl: 'https://x.hooks.example.com/blockyard' });
    });

    describe('Idempotency-Key', () => {
      it('answers the first execution for a repeated key (whatever the key order of the body), starting nothing more', async () => {
        const first = await service.executeAgent(ann, 'agent-read', { inputs: { a: 1, b: 2 }, idempotencyKey: 'k-1' });
        const again = await service.executeAgent(ann, 'agent-read', { inputs: { b: 2, a: 1 }, idempotencyKey: 'k-1' });
        expect(again.replayed).to.equal(true);
        expect(again.execution.id).to.equal(first.execution.id);
        expect(executions.calls).to.have.length(1);
      });

      it('keeps keys per app and per user', async () => {
        const first = await service.executeAgent(ann, 'agent-read', { inputs: {}, idempotencyKey: 'k' });
        await grantsRepo.create(grant({ id: 'g-other', clientId: otherApp.id }));
        const otherApps = await service.executeAgent({ userId: 'u-ann', clientId: otherApp.id }, 'agent-read', { inputs: {}, idempotencyKey: 'k' });
        expect(otherApps.replayed).to.equal(false);
        expect(otherApps.execution.id).to.not.equal(first.execution.id);
      });

      it('refuses the same key for a different request (422)', async () => {
        await service.executeAgent(ann, 'agent-read', { inputs: { a: 1 }, idempotencyKey: 'k' });
        const e = await errorOf(service.executeAgent(ann, 'agent-read', { inputs: { a: 2 }, idempotencyKey: 'k' }));
        expect(DomainError.is(e, 'invalid_input')).to.equal(true);
        expect(e.message).to.match(/used for a different request/);
      });

      it('frees the key when nothing was started (a refused request may be retried with it)', async () => {
        grantsRepo.rows.clear();
        await errorOf(service.executeAgent(ann, 'agent-read', { inputs: {}, idempotencyKey: 'k' }));
        executions.failNext = new Error('queue down');
        await grantsRepo.create(readGrant);
        await errorOf(service.executeAgent(ann, 'agent-read', { inputs: {}, idempotencyKey: 'k' }));
        expect(records.rows.size).to.equal(0);
        expect((await service.executeAgent(ann, 'agent-read', { inputs: {}, idempotencyKey: 'k' })).replayed).to.equal(false);
      });

      it('answers 409 while the first request of a key is still under way, and takes over a key whose request died', async () => {
        // A claim of the same request whose execution does not exist (yet, or ever: its request died).
        const claimed = await service.executeAgent(ann, 'agent-read', { inputs: {}, idempotencyKey: 'k2' });
        executions.rows.delete(claimed.execution.id);
        const busy = await errorOf(service.executeAgent(ann, 'agent-read', { inputs: {}, idempotencyKey: 'k2' }));
        expect(DomainError.is(busy, 'conflict')).to.equal(true);
        clock.advance(31_000);
        const taken = await service.executeAgent(ann, 'agent-read', { inputs: {}, idempotencyKey: 'k2' });
        expect(taken.replayed).to.equal(false);
        expect(taken.execution.id).to.not.equal(claimed.execution.id);
        expect(await records.get(claimed.execution.id)).to.equal(null);
      });

      it('refuses a malformed key (422)', async () => {
        for (const key of ['with space', 'x'.repeat(256), 'ünï']) expect(DomainError.is(await errorOf(service.executeAgent(ann, 'agent-read', { inputs: {}, idempotencyKey: key })), 'invalid_input'), key).to.equal(true);
      });
    });
  });

  describe('getExecution / cancelExecution', () => {
    it("finds the app's own executions only: the user's own and another app's are 404", async () => {
      const { execution } = await service.executeAgent(ann, 'agent-read', { inputs: {} });
      expect((await service.getExecution(ann, execution.id)).id).to.equal(execution.id);
      executions.rows.set('x-users-own', newExecution({ id: 'x-users-own', userId: 'u-ann', blockId: 'b', inputs: {}, now: new Date(0) }));
      for (const [actor, id] of [
        [ann, 'x-users-own'],
        [{ userId: 'u-ann', clientId: otherApp.id }, execution.id],
        [{ userId: 'u-bob', clientId: app.id }, execution.id],
      ] as const) {
        expect(DomainError.is(await errorOf(service.getExecution(actor, id)), 'not_found')).to.equal(true);
        expect(DomainError.is(await errorOf(service.cancelExecution(actor, id)), 'not_found')).to.equal(true);
      }
      expect((await service.cancelExecution(ann, execution.id)).status).to.equal('cancelled');
    });
  });
});
