import { expect } from 'chai';
import type { Agent, AgentNode, AgentVersion } from '../agent/agent.js';
import type { AgentRepository } from '../agent/agent.repository.port.js';
import { ConflictError, NotFoundError } from '../errors/domain.errors.js';
import { expectConflict } from './expect-conflict.js';
import { fixedDate, richInputs, uniqueSuffix } from './storage.fixtures.js';

/** An agent at version 1 and that version: a small graph of every node kind and a static link. */
export function agentFixture(overrides: Partial<Agent> = {}, graph: Partial<Pick<AgentVersion, 'nodes' | 'links'>> = {}): { agent: Agent; first: AgentVersion } {
  const suffix = uniqueSuffix();
  const agent: Agent = {
    id: `agent-${suffix}`,
    userId: `user-${suffix}`,
    name: 'Triage — ünïcødé ✓ 🚀',
    description: 'Echoes the "topic" \\ back/slash\nand more',
    version: 1,
    createdAt: fixedDate(),
    updatedAt: fixedDate(),
    ...overrides,
  };
  const nodes: AgentNode[] = [
    { id: 'in', kind: 'input', name: 'topic', schema: { type: 'string', minLength: 1 }, required: true },
    { id: 'in-count', kind: 'input', name: 'count', schema: { type: 'integer' }, required: false, default: 3 },
    { id: 'echo', kind: 'block', blockId: 'example.echo', inputs: richInputs(), credentials: {} },
    { id: 'issue', kind: 'block', blockId: 'github.create_issue', inputs: { owner: 'o', repo: 'r' }, credentials: { credentials: 'cred-1' } },
    { id: 'out', kind: 'output', name: 'text', schema: { type: 'string' } },
  ];
  const first: AgentVersion = {
    agentId: agent.id,
    version: 1,
    name: agent.name,
    description: agent.description,
    nodes: graph.nodes ?? nodes,
    links: graph.links ?? [
      { sourceNodeId: 'in', sourceOutput: 'value', sinkNodeId: 'echo', sinkInput: 'text', static: false },
      { sourceNodeId: 'echo', sourceOutput: 'text', sinkNodeId: 'issue', sinkInput: 'title', static: true },
      { sourceNodeId: 'echo', sourceOutput: 'text', sinkNodeId: 'out', sinkInput: 'value', static: false },
    ],
    createdAt: agent.createdAt,
  };
  return { agent, first };
}

/** The next version of `agent` with another graph, saved at `at`. */
export function agentVersionFixture(agent: Agent, overrides: Partial<AgentVersion> = {}): AgentVersion {
  return {
    agentId: agent.id,
    version: agent.version + 1,
    name: `${agent.name} v${agent.version + 1}`,
    description: `version ${agent.version + 1}`,
    nodes: [
      { id: 'in', kind: 'input', name: 'topic', schema: { type: 'string' }, required: false, default: 'héllo' },
      { id: 'out', kind: 'output', name: 'topic', schema: {} },
    ],
    links: [{ sourceNodeId: 'in', sourceOutput: 'value', sinkNodeId: 'out', sinkInput: 'value', static: false }],
    createdAt: fixedDate(60_000 * (agent.version + 1)),
    ...overrides,
  };
}

function afterVersion(agent: Agent, version: AgentVersion): Agent {
  return { ...agent, name: version.name, description: version.description, version: version.version, updatedAt: version.createdAt };
}

async function expectNotFound(action: Promise<unknown>): Promise<void> {
  let thrown: unknown;
  try {
    await action;
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a NotFoundError, but the call succeeded').to.not.equal(undefined);
  expect(thrown).to.be.instanceOf(NotFoundError);
}

/** The behaviour every AgentRepository adapter shares; `agents()` is a fresh, empty repository. */
export function agentRepositoryContract(agents: () => AgentRepository): void {
  describe('AgentRepository', () => {
    describe('create / get / getVersion', () => {
      it('round-trips the agent and its first version, every node kind, fixed inputs and links', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        const stored = await agents().get(agent.id);
        expect(stored).to.deep.equal(agent);
        expect(stored?.createdAt).to.be.instanceOf(Date);
        expect(stored?.updatedAt.getTime()).to.equal(agent.updatedAt.getTime());
        const version = await agents().getVersion(agent.id, 1);
        expect(version).to.deep.equal(first);
        expect(version?.createdAt).to.be.instanceOf(Date);
      });

      it('round-trips a graph of 2,000 nodes in order', async () => {
        const nodes: AgentNode[] = Array.from({ length: 2000 }, (_, i) => ({ id: `n${i}`, kind: 'block', blockId: 'example.echo', inputs: { text: `t${i}` }, credentials: {} }));
        const links = nodes.slice(1).map((node, i) => ({ sourceNodeId: `n${i}`, sourceOutput: 'text', sinkNodeId: node.id, sinkInput: 'text', static: i % 2 === 0 }));
        const { agent, first } = agentFixture({}, { nodes, links });
        await agents().create(agent, first);
        expect(await agents().getVersion(agent.id, 1)).to.deep.equal(first);
      });

      it('answers null for an unknown agent and for a version it does not have', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        expect(await agents().get('no-such-agent')).to.equal(null);
        expect(await agents().getVersion('no-such-agent', 1)).to.equal(null);
        expect(await agents().getVersion(agent.id, 2)).to.equal(null);
        expect(await agents().getVersion(agent.id, 0)).to.equal(null);
      });

      it('rejects a duplicate id with a ConflictError and keeps the first agent and version', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        const twin = agentFixture({ id: agent.id, name: 'the twin' });
        await expectConflict(agents().create(twin.agent, { ...twin.first, agentId: agent.id }));
        expect(await agents().get(agent.id)).to.deep.equal(agent);
        expect(await agents().getVersion(agent.id, 1)).to.deep.equal(first);
      });
    });

    describe('addVersion', () => {
      it('adds the next version, makes it the latest and keeps the earlier one', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        const second = agentVersionFixture(agent);
        const updated = await agents().addVersion(second, 1);
        const expected = afterVersion(agent, second);
        expect(updated).to.deep.equal(expected);
        expect(await agents().get(agent.id)).to.deep.equal(expected);
        expect(await agents().getVersion(agent.id, 2)).to.deep.equal(second);
        expect(await agents().getVersion(agent.id, 1)).to.deep.equal(first);
        const third = agentVersionFixture(updated);
        expect(await agents().addVersion(third, 2)).to.deep.equal(afterVersion(expected, third));
        expect(await agents().getVersion(agent.id, 3)).to.deep.equal(third);
      });

      it('rejects a stale expected version with a ConflictError, changing nothing', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        const second = agentVersionFixture(agent);
        const updated = await agents().addVersion(second, 1);
        await expectConflict(agents().addVersion({ ...second, name: 'stale write', createdAt: fixedDate(999_999) }, 1));
        await expectConflict(agents().addVersion(agentVersionFixture(updated, { version: 4 }), 3));
        expect(await agents().get(agent.id)).to.deep.equal(updated);
        expect(await agents().getVersion(agent.id, 2)).to.deep.equal(second);
        expect(await agents().getVersion(agent.id, 3)).to.equal(null);
        expect(await agents().getVersion(agent.id, 4)).to.equal(null);
      });

      it('rejects a version of an unknown or deleted agent with a NotFoundError', async () => {
        const { agent, first } = agentFixture();
        await expectNotFound(agents().addVersion(agentVersionFixture(agent), 1));
        expect(await agents().getVersion(agent.id, 2)).to.equal(null);
        await agents().create(agent, first);
        expect(await agents().delete(agent.id, fixedDate(5))).to.equal(true);
        await expectNotFound(agents().addVersion(agentVersionFixture(agent), 1));
        expect(await agents().getVersion(agent.id, 2)).to.equal(null);
      });

      it('lets exactly one of 20 parallel updates from the same version win; the others get a ConflictError', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        const attempts = Array.from({ length: 20 }, (_, i) => agentVersionFixture(agent, { name: `writer ${i}`, createdAt: fixedDate(1_000 + i) }));
        const results = await Promise.allSettled(attempts.map((attempt) => agents().addVersion(attempt, 1)));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(won).to.have.length(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(ConflictError);
        const winner = attempts[won[0]!]!;
        expect(await agents().get(agent.id)).to.deep.equal(afterVersion(agent, winner));
        expect(await agents().getVersion(agent.id, 2)).to.deep.equal(winner);
        expect(await agents().getVersion(agent.id, 3)).to.equal(null);
      });

      it('keeps other agents unchanged', async () => {
        const one = agentFixture();
        const two = agentFixture({ userId: one.agent.userId });
        await agents().create(one.agent, one.first);
        await agents().create(two.agent, two.first);
        await agents().addVersion(agentVersionFixture(one.agent), 1);
        expect(await agents().get(two.agent.id)).to.deep.equal(two.agent);
        expect(await agents().getVersion(two.agent.id, 2)).to.equal(null);
      });
    });

    describe('listByUser', () => {
      it("lists only the user's agents, newest first, ties by id descending", async () => {
        const userId = `user-with-agents-${uniqueSuffix()}`;
        const made = [
          agentFixture({ id: 'agent-b', userId, createdAt: fixedDate(2_000), updatedAt: fixedDate(2_000) }),
          agentFixture({ id: 'agent-a', userId, createdAt: fixedDate(3_000), updatedAt: fixedDate(3_000) }),
          agentFixture({ id: 'agent-c', userId, createdAt: fixedDate(2_000), updatedAt: fixedDate(2_000) }),
          agentFixture({ id: 'agent-d', userId, createdAt: fixedDate(1_000), updatedAt: fixedDate(1_000) }),
        ];
        for (const { agent, first } of made) await agents().create(agent, first);
        const other = agentFixture({ createdAt: fixedDate(9_000) });
        await agents().create(other.agent, other.first);
        const listed = await agents().listByUser(userId, { limit: 10 });
        expect(listed.map((a) => a.id)).to.deep.equal(['agent-a', 'agent-c', 'agent-b', 'agent-d']);
        expect(listed[0]).to.deep.equal(made[1]!.agent);
      });

      it('shows the latest version of each agent', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        const updated = await agents().addVersion(agentVersionFixture(agent), 1);
        expect(await agents().listByUser(agent.userId, { limit: 10 })).to.deep.equal([updated]);
      });

      it('pages through every agent exactly once', async () => {
        const userId = `user-paging-${uniqueSuffix()}`;
        const made = Array.from({ length: 23 }, (_, i) => agentFixture({ id: `agent-page-${String(i).padStart(3, '0')}`, userId, createdAt: fixedDate(Math.floor(i / 3) * 1000) }));
        for (const { agent, first } of made) await agents().create(agent, first);
        const seen: Agent[] = [];
        let after: Agent | undefined;
        for (let page = 0; page < 10; page += 1) {
          const batch = await agents().listByUser(userId, { limit: 5, after: after ? { createdAt: after.createdAt, id: after.id } : null });
          expect(batch.length).to.be.at.most(5);
          if (batch.length === 0) break;
          seen.push(...batch);
          after = batch[batch.length - 1];
        }
        const expected = made.map((m) => m.agent).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
        expect(seen).to.deep.equal(expected);
      });

      it('answers an empty list for a user without agents', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        expect(await agents().listByUser('user-without-agents', { limit: 10 })).to.deep.equal([]);
      });
    });

    describe('delete', () => {
      it('hides the agent from get and listByUser, keeps its versions, answers true then false', async () => {
        const { agent, first } = agentFixture();
        const other = agentFixture({ userId: agent.userId });
        await agents().create(agent, first);
        await agents().create(other.agent, other.first);
        const second = agentVersionFixture(agent);
        await agents().addVersion(second, 1);
        expect(await agents().delete(agent.id, fixedDate(100_000))).to.equal(true);
        expect(await agents().get(agent.id)).to.equal(null);
        expect(await agents().listByUser(agent.userId, { limit: 10 })).to.deep.equal([other.agent]);
        expect(await agents().getVersion(agent.id, 1)).to.deep.equal(first);
        expect(await agents().getVersion(agent.id, 2)).to.deep.equal(second);
        expect(await agents().delete(agent.id, fixedDate(100_001))).to.equal(false);
      });

      it('answers false for an unknown id and changes no other agent', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        expect(await agents().delete('no-such-agent', fixedDate(1))).to.equal(false);
        expect(await agents().get(agent.id)).to.deep.equal(agent);
      });

      it('keeps the id taken: a new agent with it is a ConflictError', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        await agents().delete(agent.id, fixedDate(1));
        await expectConflict(agents().create(agent, first));
      });
    });

    describe('isolation', () => {
      it('is not changed by mutating returned agents and versions', async () => {
        const { agent, first } = agentFixture();
        await agents().create(agent, first);
        const copy = structuredClone(first);
        const returned = (await agents().get(agent.id)) as { -readonly [K in keyof Agent]: Agent[K] };
        returned.name = 'changed';
        returned.createdAt.setTime(0);
        const version = (await agents().getVersion(agent.id, 1))!;
        (version.nodes as AgentNode[]).pop();
        (version.nodes[2] as { inputs: Record<string, unknown> }).inputs['text'] = 'tampered';
        (version.links as unknown[]).length = 0;
        const [listed] = await agents().listByUser(agent.userId, { limit: 1 });
        listed!.updatedAt.setTime(0);
        expect(await agents().get(agent.id)).to.deep.equal(agent);
        expect(await agents().getVersion(agent.id, 1)).to.deep.equal(copy);
      });

      it('is not changed by mutating the agent or version after storing them', async () => {
        const { agent, first } = agentFixture();
        const copies = structuredClone({ agent, first });
        await agents().create(agent, first);
        agent.createdAt.setTime(0);
        (first.nodes as AgentNode[]).length = 1;
        (first.links[0] as { static: boolean }).static = true;
        expect(await agents().get(agent.id)).to.deep.equal(copies.agent);
        expect(await agents().getVersion(agent.id, 1)).to.deep.equal(copies.first);
        const second = agentVersionFixture(copies.agent);
        const secondCopy = structuredClone(second);
        await agents().addVersion(second, 1);
        second.createdAt.setTime(0);
        (second.nodes as AgentNode[]).length = 0;
        expect(await agents().getVersion(agent.id, 2)).to.deep.equal(secondCopy);
      });
    });
  });
}
