import { expect } from 'chai';
import type { Agent, AgentVersion } from '../agent/agent.js';
import { agentSpecBlocks, diamondGraph, input, link, node, output } from '../agent/agent-graph.fixtures.js';
import type { AgentRepository } from '../agent/agent.repository.port.js';
import type { Credential } from '../credential/credential.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import { ConflictError, DomainError, NotFoundError, ValidationError } from '../errors/domain.errors.js';
import { FakeClock } from '../system/clock.port.js';
import { SequentialIdGenerator } from '../system/id-generator.port.js';
import { credentialFixture } from '../testing/storage.fixtures.js';
import { AgentService } from './agent.service.js';

/** A Map-backed AgentRepository double (the real adapters pass the agent repository contract). */
function agentRepositoryMock() {
  const agents = new Map<string, { agent: Agent; deleted: boolean }>();
  const versions = new Map<string, AgentVersion>();
  const repo: AgentRepository = {
    async create(agent, first) {
      if (agents.has(agent.id)) throw new ConflictError('duplicate');
      agents.set(agent.id, { agent: structuredClone(agent), deleted: false });
      versions.set(`${agent.id}#1`, structuredClone(first));
    },
    async addVersion(version, expected) {
      // A turn of the event loop between read and write, as storage has, so concurrent calls interleave.
      await new Promise((resolve) => setImmediate(resolve));
      const stored = agents.get(version.agentId);
      if (!stored || stored.deleted) throw new NotFoundError('gone');
      if (stored.agent.version !== expected) throw new ConflictError(`at ${stored.agent.version}`);
      stored.agent = { ...stored.agent, name: version.name, description: version.description, version: version.version, updatedAt: version.createdAt };
      versions.set(`${version.agentId}#${version.version}`, structuredClone(version));
      return structuredClone(stored.agent);
    },
    async get(id) {
      const stored = agents.get(id);
      return stored && !stored.deleted ? structuredClone(stored.agent) : null;
    },
    async getVersion(agentId, version) {
      const found = versions.get(`${agentId}#${version}`);
      return found ? structuredClone(found) : null;
    },
    async listByUser(userId, { limit, after }) {
      const order = (a: Agent, b: Agent) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1);
      return [...agents.values()]
        .filter((s) => !s.deleted && s.agent.userId === userId)
        .map((s) => s.agent)
        .filter((a) => !after || order(a, { ...a, createdAt: after.createdAt, id: after.id }) > 0)
        .sort(order)
        .slice(0, limit)
        .map((a) => structuredClone(a));
    },
    async delete(id) {
      const stored = agents.get(id);
      if (!stored || stored.deleted) return false;
      stored.deleted = true;
      return true;
    },
  };
  return { repo, agents, versions };
}

function credentialRepositoryMock(...credentials: Credential[]): CredentialRepository {
  const byId = new Map(credentials.map((c) => [c.id, c]));
  return { get: async (id: string) => byId.get(id) ?? null } as unknown as CredentialRepository;
}

async function rejection(action: Promise<unknown>): Promise<DomainError> {
  try {
    await action;
  } catch (e) {
    if (DomainError.is(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection, but the call succeeded');
}

describe('AgentService', () => {
  const ann = 'user-ann';
  const bob = 'user-bob';
  const annGithub = credentialFixture({ id: 'cred-ann', userId: ann, provider: 'github', kind: 'api_key', scopes: ['github:repo.write'] });
  const bobGithub = credentialFixture({ id: 'cred-bob', userId: bob, provider: 'github', kind: 'api_key', scopes: ['github:repo.write'] });
  let clock: FakeClock;
  let storage: ReturnType<typeof agentRepositoryMock>;
  let service: AgentService;

  beforeEach(() => {
    clock = new FakeClock('2026-03-01T10:00:00.000Z');
    storage = agentRepositoryMock();
    service = new AgentService({ agents: storage.repo, blocks: agentSpecBlocks(), credentials: credentialRepositoryMock(annGithub, bobGithub), clock, ids: new SequentialIdGenerator('agent') });
  });

  describe('createAgent', () => {
    it('stores the graph as version 1 and answers the agent with it', async () => {
      const graph = diamondGraph();
      const { agent, version } = await service.createAgent(ann, { name: '  Diamond  ', description: 'two ways', ...graph });
      expect(agent).to.deep.equal({ id: 'agent-1', userId: ann, name: 'Diamond', description: 'two ways', version: 1, createdAt: clock.now(), updatedAt: clock.now() });
      expect(version).to.deep.equal({ agentId: 'agent-1', version: 1, name: 'Diamond', description: 'two ways', nodes: graph.nodes, links: graph.links, createdAt: clock.now() });
      expect(await storage.repo.getVersion('agent-1', 1)).to.deep.equal(version);
    });

    it('rejects a blank name', async () => {
      const error = await rejection(service.createAgent(ann, { name: '   ', ...diamondGraph() }));
      expect(error).to.be.instanceOf(ValidationError);
      expect(storage.agents.size).to.equal(0);
    });

    it('rejects an invalid graph with every problem listed, storing nothing', async () => {
      const graph = { nodes: [node('x', 'no.such'), node('j', 't.join'), input('in'), input('in2', 'in')], links: [link('in', 'value', 'j', 'a')] };
      const error = (await rejection(service.createAgent(ann, { name: 'bad', ...graph }))) as ValidationError;
      expect(error).to.be.instanceOf(ValidationError);
      expect(error.issues.map((i) => i.path)).to.deep.equal(['/nodes/x/block_id', '/nodes/in/name', '/nodes/j/inputs/b']);
      expect(storage.agents.size).to.equal(0);
    });

    it("accepts the caller's own credential and reports another user's as not found", async () => {
      const withCredential = (id: string) => ({ name: 'issue', nodes: [node('gh', 't.issue', { title: 't' }, { credentials: id })], links: [] });
      expect((await service.createAgent(ann, withCredential('cred-ann'))).version.nodes).to.have.length(1);
      const error = (await rejection(service.createAgent(ann, withCredential('cred-bob')))) as ValidationError;
      expect(error.issues).to.have.length(1);
      expect(error.issues[0]!.message).to.contain('credential cred-bob not found');
    });

    it('reports every named credential as not found without credential storage', async () => {
      const bare = new AgentService({ agents: storage.repo, blocks: agentSpecBlocks(), credentials: null, clock, ids: new SequentialIdGenerator('agent') });
      const error = (await rejection(bare.createAgent(ann, { name: 'x', nodes: [node('gh', 't.issue', { title: 't' }, { credentials: 'cred-ann' })], links: [] }))) as ValidationError;
      expect(error.issues[0]!.message).to.contain('credential cred-ann not found');
    });

    it('requires a named credential when the provider has no system credential', async () => {
      const graph = { name: 'x', nodes: [node('gh', 't.issue', { title: 't' })], links: [] };
      const without = new AgentService({ agents: storage.repo, blocks: agentSpecBlocks(), credentials: null, systemCredentials: { providers: [] }, clock, ids: new SequentialIdGenerator('a') });
      expect(((await rejection(without.createAgent(ann, graph))) as ValidationError).issues[0]!.path).to.equal('/nodes/gh/credentials/credentials');
      const withSystem = new AgentService({ agents: storage.repo, blocks: agentSpecBlocks(), credentials: null, systemCredentials: { providers: ['github'] }, clock, ids: new SequentialIdGenerator('b') });
      expect((await withSystem.createAgent(ann, graph)).agent.version).to.equal(1);
    });
  });

  describe('updateAgent', () => {
    const nextGraph = () => ({ nodes: [input('in'), output('out')], links: [link('in', 'value', 'out', 'value')] });

    it('adds a version, keeping name and description when absent, and the earlier version', async () => {
      const created = await service.createAgent(ann, { name: 'A', description: 'first', ...diamondGraph() });
      clock.advance(1000);
      const { agent, version } = await service.updateAgent(ann, created.agent.id, { ...nextGraph(), version: 1 });
      expect(agent).to.deep.include({ name: 'A', description: 'first', version: 2, updatedAt: clock.now() });
      expect(agent.createdAt).to.deep.equal(created.agent.createdAt);
      expect(version).to.deep.include({ version: 2, name: 'A', description: 'first', nodes: nextGraph().nodes });
      const renamed = await service.updateAgent(ann, created.agent.id, { ...nextGraph(), name: 'B', description: 'third' });
      expect(renamed.agent).to.deep.include({ name: 'B', description: 'third', version: 3 });
      expect((await service.getAgent(ann, created.agent.id, 1)).version).to.deep.equal(created.version);
    });

    it('answers a ConflictError for a stale version, changing nothing', async () => {
      const created = await service.createAgent(ann, { name: 'A', ...diamondGraph() });
      await service.updateAgent(ann, created.agent.id, { ...nextGraph(), version: 1 });
      const error = await rejection(service.updateAgent(ann, created.agent.id, { ...diamondGraph(), name: 'stale', version: 1 }));
      expect(error).to.be.instanceOf(ConflictError);
      expect(error.message).to.contain('version 2');
      const latest = await service.getAgent(ann, created.agent.id);
      expect(latest.agent).to.deep.include({ version: 2, name: 'A' });
      expect(await storage.repo.getVersion(created.agent.id, 3)).to.equal(null);
    });

    it('lets exactly one of two concurrent updates from the same version win', async () => {
      const created = await service.createAgent(ann, { name: 'A', ...diamondGraph() });
      const results = await Promise.allSettled([
        service.updateAgent(ann, created.agent.id, { ...nextGraph(), name: 'one', version: 1 }),
        service.updateAgent(ann, created.agent.id, { ...nextGraph(), name: 'two', version: 1 }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(failed?.reason).to.be.instanceOf(ConflictError);
      expect((await service.getAgent(ann, created.agent.id)).agent.version).to.equal(2);
    });

    it('applies updates without a version on top of whatever is latest', async () => {
      const created = await service.createAgent(ann, { name: 'A', ...diamondGraph() });
      const results = await Promise.all([1, 2, 3].map((i) => service.updateAgent(ann, created.agent.id, { ...nextGraph(), name: `w${i}` })));
      expect(results.map((r) => r.version.version).sort()).to.deep.equal([2, 3, 4]);
    });

    it('rejects an invalid graph listing its problems, keeping the latest version', async () => {
      const created = await service.createAgent(ann, { name: 'A', ...diamondGraph() });
      const error = (await rejection(service.updateAgent(ann, created.agent.id, { nodes: [node('a', 't.echo'), node('b', 't.echo')], links: [link('a', 'text', 'b', 'text'), link('b', 'text', 'a', 'text')] }))) as ValidationError;
      expect(error.issues.map((i) => i.path)).to.deep.equal(['/nodes/a']);
      expect(error.message).to.contain('"a" -> "b" -> "a"');
      expect((await service.getAgent(ann, created.agent.id)).agent.version).to.equal(1);
    });

    it("answers NotFoundError for another user's agent and changes nothing", async () => {
      const created = await service.createAgent(ann, { name: 'A', ...diamondGraph() });
      expect(await rejection(service.updateAgent(bob, created.agent.id, nextGraph()))).to.be.instanceOf(NotFoundError);
      expect((await service.getAgent(ann, created.agent.id)).agent.version).to.equal(1);
    });
  });

  describe('getAgent', () => {
    it('answers the latest version, or the one asked for', async () => {
      const created = await service.createAgent(ann, { name: 'A', ...diamondGraph() });
      const second = await service.updateAgent(ann, created.agent.id, { name: 'B', nodes: [output('o')], links: [] });
      expect(await service.getAgent(ann, created.agent.id)).to.deep.equal(second);
      expect((await service.getAgent(ann, created.agent.id, 1)).version).to.deep.equal(created.version);
      expect((await service.getAgent(ann, created.agent.id, 1)).agent).to.deep.equal(second.agent);
    });

    it('answers NotFoundError for a version it does not have, an unknown id, and another user', async () => {
      const created = await service.createAgent(ann, { name: 'A', ...diamondGraph() });
      expect((await rejection(service.getAgent(ann, created.agent.id, 2))).message).to.contain('no version 2');
      expect(await rejection(service.getAgent(ann, created.agent.id, 0))).to.be.instanceOf(NotFoundError);
      expect(await rejection(service.getAgent(ann, 'nope'))).to.be.instanceOf(NotFoundError);
      expect(await rejection(service.getAgent(bob, created.agent.id))).to.be.instanceOf(NotFoundError);
    });
  });

  describe('listAgents', () => {
    it("pages through the caller's agents, newest first", async () => {
      for (let i = 0; i < 5; i++) {
        await service.createAgent(ann, { name: `ann ${i}`, ...diamondGraph() });
        clock.advance(1000);
      }
      await service.createAgent(bob, { name: 'bob', ...diamondGraph() });
      const first = await service.listAgents(ann, { limit: 2 });
      expect(first.agents.map((a) => a.name)).to.deep.equal(['ann 4', 'ann 3']);
      const second = await service.listAgents(ann, { limit: 2, cursor: first.nextCursor });
      expect(second.agents.map((a) => a.name)).to.deep.equal(['ann 2', 'ann 1']);
      const third = await service.listAgents(ann, { limit: 2, cursor: second.nextCursor });
      expect(third.agents.map((a) => a.name)).to.deep.equal(['ann 0']);
      expect(third.nextCursor).to.equal(null);
      expect((await service.listAgents(ann)).agents).to.have.length(5);
    });

    it('rejects a limit out of range and a cursor it did not give out', async () => {
      expect(await rejection(service.listAgents(ann, { limit: 0 }))).to.be.instanceOf(ValidationError);
      expect(await rejection(service.listAgents(ann, { limit: 101 }))).to.be.instanceOf(ValidationError);
      expect(await rejection(service.listAgents(ann, { cursor: 'garbage' }))).to.be.instanceOf(ValidationError);
    });
  });

  describe('deleteAgent', () => {
    it('hides the agent from get and list, keeps its versions, and a second delete is not found', async () => {
      const created = await service.createAgent(ann, { name: 'A', ...diamondGraph() });
      await service.deleteAgent(ann, created.agent.id);
      expect(await rejection(service.getAgent(ann, created.agent.id))).to.be.instanceOf(NotFoundError);
      expect((await service.listAgents(ann)).agents).to.deep.equal([]);
      expect(await storage.repo.getVersion(created.agent.id, 1)).to.deep.equal(created.version);
      expect(await rejection(service.deleteAgent(ann, created.agent.id))).to.be.instanceOf(NotFoundError);
    });

    it("answers NotFoundError for another user's agent and keeps it", async () => {
      const created = await service.createAgent(ann, { name: 'A', ...diamondGraph() });
      expect(await rejection(service.deleteAgent(bob, created.agent.id))).to.be.instanceOf(NotFoundError);
      expect((await service.getAgent(ann, created.agent.id)).agent.id).to.equal(created.agent.id);
    });
  });
});
