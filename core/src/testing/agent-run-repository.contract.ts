import { expect } from 'chai';
import { emptyState, type AgentExecutionState, type NodeRun } from '../agent/agent-run.js';
import type { AgentRunRepository } from '../agent/agent-run.repository.port.js';
import { fixedDate, richInputs } from './storage.fixtures.js';

let counter = 0;

/** A queued node run of `executionId` with every field set. */
export function nodeRunFixture(executionId: string, overrides: Partial<NodeRun> = {}): NodeRun {
  counter++;
  return {
    id: `${executionId}-run-${counter}`,
    executionId,
    nodeId: `node-${counter}`,
    seq: counter,
    status: 'queued',
    inputs: richInputs(),
    outputs: {},
    error: null,
    costUsd: 0,
    attempts: 0,
    token: null,
    dispatchedBy: 'start',
    propagated: 0,
    createdAt: fixedDate(counter),
    startedAt: null,
    completedAt: null,
    ...overrides,
  };
}

function stateFixture(overrides: Partial<AgentExecutionState> = {}): AgentExecutionState {
  return {
    ...emptyState(fixedDate(60_000).getTime()),
    version: 1,
    statics: { sink: { text: 'kept ✓', n: { deep: [1, null] } } },
    pending: { join: [{ inputs: { a: 1 } }, { inputs: { b: [true] } }] },
    active: 2,
    runs: 3,
    costUsd: 0.0125,
    ...overrides,
  };
}

/** The behaviour every AgentRunRepository adapter shares; `runs()` is a fresh, empty repository. */
export function agentRunRepositoryContract(runs: () => AgentRunRepository): void {
  describe('AgentRunRepository', () => {
    const newExecutionId = () => `exec-${Date.now().toString(36)}-${(counter++).toString(36)}`;

    it('stores the first state and runs with version 0 and round-trips every field', async () => {
      const executionId = newExecutionId();
      const state = stateFixture();
      const first = nodeRunFixture(executionId);
      const second = nodeRunFixture(executionId, {
        status: 'completed',
        outputs: { out: ['x', { y: [1, 2] }], empty: [] },
        error: null,
        costUsd: 0.5,
        attempts: 2,
        token: 'tok-1',
        dispatchedBy: first.id,
        propagated: 2,
        startedAt: fixedDate(100),
        completedAt: fixedDate(200),
      });
      expect(await runs().commit(executionId, 0, state, [first, second])).to.equal(true);
      expect(await runs().getState(executionId)).to.deep.equal(state);
      expect(await runs().getRun(first.id)).to.deep.equal(first);
      expect(await runs().getRun(second.id)).to.deep.equal(second);
      expect(await runs().listRuns(executionId)).to.deep.equal([first, second]);
      expect(await runs().getState('no-such-execution')).to.equal(null);
      expect(await runs().getRun('no-such-run')).to.equal(null);
    });

    it('refuses a second first commit and a commit on a moved version, changing nothing', async () => {
      const executionId = newExecutionId();
      const run = nodeRunFixture(executionId);
      await runs().commit(executionId, 0, stateFixture(), [run]);
      const intruder = nodeRunFixture(executionId);
      expect(await runs().commit(executionId, 0, stateFixture({ active: 9 }), [intruder])).to.equal(false);
      expect(await runs().commit(executionId, 5, stateFixture({ version: 6, active: 9 }), [intruder])).to.equal(false);
      expect((await runs().getState(executionId))?.active).to.equal(2);
      expect(await runs().getRun(intruder.id)).to.equal(null);
    });

    it('moves the version forward and upserts runs in one commit', async () => {
      const executionId = newExecutionId();
      const run = nodeRunFixture(executionId);
      await runs().commit(executionId, 0, stateFixture(), [run]);
      const done = { ...run, status: 'completed' as const, outputs: { out: [1] }, completedAt: fixedDate(5_000) };
      const next = nodeRunFixture(executionId, { dispatchedBy: run.id });
      expect(await runs().commit(executionId, 1, stateFixture({ version: 2, active: 1, pending: {} }), [done, next])).to.equal(true);
      expect(await runs().getState(executionId)).to.deep.include({ version: 2, active: 1, pending: {} });
      expect(await runs().listRuns(executionId)).to.deep.equal([done, next]);
    });

    it('lets exactly one of many concurrent commits on one version win', async () => {
      const executionId = newExecutionId();
      await runs().commit(executionId, 0, stateFixture(), []);
      const attempts = Array.from({ length: 12 }, (_, i) => runs().commit(executionId, 1, stateFixture({ version: 2, active: i }), [nodeRunFixture(executionId)]));
      const results = await Promise.all(attempts);
      expect(results.filter(Boolean)).to.have.length(1);
      expect(await runs().listRuns(executionId)).to.have.length(1);
    });

    it('answers the backlog: queued runs not yet dispatched, by seq, up to the limit', async () => {
      const executionId = newExecutionId();
      const waiting = [3, 1, 2].map((seq) => nodeRunFixture(executionId, { seq: 100 + seq, dispatchedBy: null }));
      const dispatched = nodeRunFixture(executionId, { seq: 50 });
      await runs().commit(executionId, 0, stateFixture(), [...waiting, dispatched]);
      expect((await runs().backlog(executionId, 2)).map((r) => r.seq)).to.deep.equal([101, 102]);
      expect(await runs().backlog(executionId, 10)).to.have.length(3);
      expect(await runs().backlog('other', 10)).to.deep.equal([]);
    });

    it('updates a run only while its status and token are as expected', async () => {
      const executionId = newExecutionId();
      const run = nodeRunFixture(executionId);
      await runs().commit(executionId, 0, stateFixture(), [run]);
      const claimed = { ...run, status: 'running' as const, token: 'tok-a', attempts: 1, startedAt: fixedDate(10) };
      const claims = await Promise.all([runs().updateRun(claimed, { status: 'queued', token: null }), runs().updateRun({ ...claimed, token: 'tok-b' }, { status: 'queued', token: null })]);
      expect(claims.filter(Boolean)).to.have.length(1);
      const stored = await runs().getRun(run.id);
      expect(stored?.status).to.equal('running');
      expect(await runs().updateRun({ ...stored!, attempts: 2 }, { status: 'running', token: stored!.token === 'tok-a' ? 'tok-b' : 'tok-a' })).to.equal(false);
      expect(await runs().updateRun({ ...stored!, attempts: 2 }, { status: 'running', token: stored!.token })).to.equal(true);
      expect((await runs().getRun(run.id))?.attempts).to.equal(2);
    });

    it('keeps many runs of one execution and lists them in seq order', async () => {
      const executionId = newExecutionId();
      const many = Array.from({ length: 300 }, (_, i) => nodeRunFixture(executionId, { seq: 1000 - i, inputs: { i } }));
      await runs().commit(executionId, 0, stateFixture(), many);
      const listed = await runs().listRuns(executionId);
      expect(listed.map((r) => r.seq)).to.deep.equal([...many].map((r) => r.seq).sort((a, b) => a - b));
    });
  });
}
