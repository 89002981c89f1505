import { expect } from 'chai';
import type { Execution, ExecutionStatus } from '../execution/execution.js';
import type { ExecutionRepository } from '../execution/execution.repository.port.js';
import { expectConflict } from './expect-conflict.js';
import { executionFixture, fixedDate, richInputs } from './storage.fixtures.js';

/** A finished execution with every field set to something that is not its default. */
function completedFixture(overrides: Partial<Execution> = {}): Execution {
  return executionFixture({
    status: 'completed',
    inputs: richInputs(),
    outputs: { response: [{ ok: true, items: [1, 2, { x: null }] }, 'second', 3, null], log: ['ünïcødé ✓ 🚀'], empty: [] },
    error: 'partial failure: "quota" ⚠',
    costUsd: 0.000123,
    attempts: 3,
    createdAt: fixedDate(1),
    startedAt: fixedDate(502),
    completedAt: fixedDate(90_003),
    ...overrides,
  });
}

/** The behaviour every ExecutionRepository adapter shares; `executions()` is a fresh, empty repository. */
export function executionRepositoryContract(executions: () => ExecutionRepository): void {
  describe('ExecutionRepository', () => {
    describe('create / get', () => {
      it('round-trips a new execution with null fields and empty outputs', async () => {
        const execution = executionFixture();
        await executions().create(execution);
        const stored = await executions().get(execution.id);
        expect(stored).to.deep.equal(execution);
        expect(stored?.createdAt).to.be.instanceOf(Date);
        expect(stored?.startedAt).to.equal(null);
        expect(stored?.completedAt).to.equal(null);
        expect(stored?.error).to.equal(null);
      });

      it('round-trips every field: nested JSON, unicode, nulls, numbers and dates', async () => {
        const execution = completedFixture();
        await executions().create(execution);
        const stored = await executions().get(execution.id);
        expect(stored).to.deep.equal(execution);
        for (const field of ['createdAt', 'startedAt', 'completedAt'] as const) {
          expect(stored?.[field], field).to.be.instanceOf(Date);
          expect(stored?.[field]?.getTime(), field).to.equal(execution[field]?.getTime());
        }
        expect(stored?.costUsd).to.equal(0.000123);
      });

      it('round-trips an agent execution: its agent and version, blockId empty', async () => {
        const execution = executionFixture({ blockId: '', agent: { id: 'agent-ünï ✓', version: 7 }, inputs: richInputs() });
        await executions().create(execution);
        expect(await executions().get(execution.id)).to.deep.equal(execution);
        const running: Execution = { ...execution, status: 'running', attempts: 1, startedAt: fixedDate(10) };
        expect(await executions().update(running, 'queued')).to.equal(true);
        const [listed] = await executions().listByStatus(['running'], 10);
        expect(listed).to.deep.equal(running);
        expect(listed?.agent).to.deep.equal({ id: 'agent-ünï ✓', version: 7 });
        expect(listed?.blockId).to.equal('');
      });

      it("round-trips an app's execution: its grant ids, in order, through create, update and listByStatus", async () => {
        const execution = executionFixture({ blockId: '', agent: { id: 'agent-1', version: 1 }, grantIds: ['grant-b ✓', 'grant-a'] });
        await executions().create(execution);
        expect(await executions().get(execution.id)).to.deep.equal(execution);
        const running: Execution = { ...execution, status: 'running', attempts: 1, startedAt: fixedDate(10) };
        expect(await executions().update(running, 'queued')).to.equal(true);
        const [listed] = await executions().listByStatus(['running'], 10);
        expect(listed).to.deep.equal(running);
        expect(listed?.grantIds).to.deep.equal(['grant-b ✓', 'grant-a']);
        (listed!.grantIds as string[]).push('mutated');
        expect((await executions().get(execution.id))?.grantIds).to.deep.equal(['grant-b ✓', 'grant-a']);
      });

      it('keeps grantIds absent for an execution without grants', async () => {
        const execution = executionFixture({ blockId: '', agent: { id: 'agent-1', version: 1 } });
        await executions().create(execution);
        const stored = await executions().get(execution.id);
        expect(stored).to.deep.equal(execution);
        expect(stored).to.not.have.property('grantIds');
      });

      it('answers null for an unknown id', async () => {
        expect(await executions().get('no-such-execution')).to.equal(null);
      });

      it('rejects a duplicate id with a ConflictError and keeps the first execution', async () => {
        const execution = executionFixture();
        await executions().create(execution);
        await expectConflict(executions().create(completedFixture({ id: execution.id })));
        expect(await executions().get(execution.id)).to.deep.equal(execution);
      });
    });

    describe('update', () => {
      it('replaces the stored execution when its status is the expected one', async () => {
        const queued = executionFixture({ inputs: richInputs() });
        await executions().create(queued);
        const running: Execution = { ...queued, status: 'running', attempts: 1, startedAt: fixedDate(10) };
        expect(await executions().update(running, 'queued')).to.equal(true);
        expect(await executions().get(queued.id)).to.deep.equal(running);
        const completed: Execution = {
          ...running,
          status: 'completed',
          outputs: { response: [{ nested: { value: 'done ✓' } }, null] },
          error: null,
          costUsd: 1.75,
          completedAt: fixedDate(20),
        };
        expect(await executions().update(completed, 'running')).to.equal(true);
        expect(await executions().get(queued.id)).to.deep.equal(completed);
      });

      it('answers false and changes nothing when the status is not the expected one', async () => {
        const queued = executionFixture();
        await executions().create(queued);
        const completed: Execution = { ...queued, status: 'completed', outputs: { x: [1] }, completedAt: fixedDate(5) };
        expect(await executions().update(completed, 'running')).to.equal(false);
        expect(await executions().get(queued.id)).to.deep.equal(queued);
      });

      it('answers false for an unknown id and creates nothing', async () => {
        const ghost = executionFixture();
        expect(await executions().update({ ...ghost, status: 'running' }, 'queued')).to.equal(false);
        expect(await executions().get(ghost.id)).to.equal(null);
      });

      it('lets exactly one of many concurrent updates from the same status win', async () => {
        const queued = executionFixture();
        await executions().create(queued);
        const attempts = Array.from({ length: 50 }, (_, i): Execution => ({ ...queued, status: 'running', attempts: i + 1 }));
        const results = await Promise.all(attempts.map((attempt) => executions().update(attempt, 'queued')));
        expect(results.filter(Boolean)).to.have.length(1);
        const winner = attempts[results.indexOf(true)];
        expect(await executions().get(queued.id)).to.deep.equal(winner);
      });
    });

    describe('listByStatus', () => {
      it('lists executions in any of the given statuses, oldest first', async () => {
        const statuses: ExecutionStatus[] = ['running', 'queued', 'completed', 'queued', 'failed', 'running', 'cancelled'];
        const offsets = [6000, 4000, 1000, 2000, 3000, 5000, 0];
        const created = statuses.map((status, i) => executionFixture({ status, createdAt: fixedDate(offsets[i]) }));
        for (const execution of created) await executions().create(execution);
        const listed = await executions().listByStatus(['queued', 'running'], 100);
        const expected = created
          .filter((e) => e.status === 'queued' || e.status === 'running')
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
        expect(listed).to.deep.equal(expected);
        expect((await executions().listByStatus(['failed'], 100)).map((e) => e.id)).to.deep.equal([created[4]!.id]);
        expect(await executions().listByStatus([], 100)).to.deep.equal([]);
      });

      it('returns at most `limit` executions, the oldest ones', async () => {
        const created = [4, 2, 0, 3, 1].map((i) => executionFixture({ createdAt: fixedDate(i * 1000) }));
        for (const execution of created) await executions().create(execution);
        const listed = await executions().listByStatus(['queued'], 3);
        expect(listed.map((e) => e.createdAt.getTime())).to.deep.equal([0, 1000, 2000].map((ms) => fixedDate(ms).getTime()));
        expect(await executions().listByStatus(['queued'], 0)).to.deep.equal([]);
      });

      it('reflects updates', async () => {
        const execution = executionFixture();
        await executions().create(execution);
        await executions().update({ ...execution, status: 'running', startedAt: fixedDate(1) }, 'queued');
        expect(await executions().listByStatus(['queued'], 10)).to.deep.equal([]);
        expect((await executions().listByStatus(['running'], 10)).map((e) => e.id)).to.deep.equal([execution.id]);
      });
    });

    describe('listActiveByGrant', () => {
      it('lists the queued and running executions going through the grant, oldest first, up to `limit`', async () => {
        const agent = { id: 'agent-1', version: 1 };
        const make = (status: ExecutionStatus, grantIds: string[] | undefined, at: number) =>
          executionFixture({ blockId: '', agent, status, createdAt: fixedDate(at), ...(grantIds ? { grantIds } : {}) });
        const runningLate = make('running', ['g-x', 'g-1'], 3000);
        const queuedEarly = make('queued', ['g-1'], 1000);
        const queuedMiddle = make('queued', ['g-2', 'g-1'], 2000);
        const others = [
          make('completed', ['g-1'], 500),
          make('failed', ['g-1'], 600),
          make('cancelled', ['g-1'], 700),
          make('queued', ['g-2'], 800),
          make('running', undefined, 900),
          make('queued', ['g-10', 'xg-1', 'g-1x'], 950),
        ];
        for (const execution of [runningLate, queuedEarly, queuedMiddle, ...others]) await executions().create(execution);
        expect(await executions().listActiveByGrant('g-1', 100)).to.deep.equal([queuedEarly, queuedMiddle, runningLate]);
        expect(await executions().listActiveByGrant('g-1', 2)).to.deep.equal([queuedEarly, queuedMiddle]);
        expect(await executions().listActiveByGrant('g-1', 0)).to.deep.equal([]);
        expect((await executions().listActiveByGrant('g-2', 100)).map((e) => e.id)).to.deep.equal([others[3]!.id, queuedMiddle.id]);
        expect(await executions().listActiveByGrant('no-such-grant', 100)).to.deep.equal([]);
        expect(await executions().listActiveByGrant('g-1"', 100)).to.deep.equal([]);
      });

      it('reflects updates: a finished execution is no longer listed', async () => {
        const execution = executionFixture({ blockId: '', agent: { id: 'agent-1', version: 1 }, grantIds: ['g-upd'] });
        await executions().create(execution);
        expect((await executions().listActiveByGrant('g-upd', 10)).map((e) => e.id)).to.deep.equal([execution.id]);
        expect(await executions().update({ ...execution, status: 'cancelled', completedAt: fixedDate(1) }, 'queued')).to.equal(true);
        expect(await executions().listActiveByGrant('g-upd', 10)).to.deep.equal([]);
      });
    });

    describe('concurrency', () => {
      it('persists 200 executions created, then moved through two updates, in parallel', async () => {
        const queued = Array.from({ length: 200 }, (_, i) => executionFixture({ inputs: { i, text: `n° ${i} ✓` }, createdAt: fixedDate(i) }));
        await Promise.all(queued.map((e) => executions().create(e)));
        const running = queued.map((e): Execution => ({ ...e, status: 'running', attempts: 1, startedAt: fixedDate(10_000) }));
        expect(await Promise.all(running.map((e) => executions().update(e, 'queued')))).to.deep.equal(running.map(() => true));
        const completed = running.map((e, i): Execution => ({ ...e, status: 'completed', outputs: { out: [i] }, costUsd: i / 8, completedAt: fixedDate(20_000 + i) }));
        expect(await Promise.all(completed.map((e) => executions().update(e, 'running')))).to.deep.equal(completed.map(() => true));
        expect(await executions().listByStatus(['completed'], 1000)).to.deep.equal(completed);
        expect(await executions().listByStatus(['queued', 'running'], 1000)).to.deep.equal([]);
      });

      it('runs creates and create→update chains interleaved in parallel', async () => {
        const chains = Array.from({ length: 200 }, async (_, i) => {
          const execution = executionFixture({ createdAt: fixedDate(i) });
          await executions().create(execution);
          if (i % 2 === 1) return execution;
          const running: Execution = { ...execution, status: 'running', startedAt: fixedDate(50_000) };
          expect(await executions().update(running, 'queued')).to.equal(true);
          return running;
        });
        const expected = await Promise.all(chains);
        expect(await executions().listByStatus(['queued', 'running'], 1000)).to.deep.equal(expected);
      });
    });

    describe('isolation', () => {
      it('is not changed by mutating a returned execution or its nested JSON', async () => {
        const execution = completedFixture();
        await executions().create(execution);
        const returned = (await executions().get(execution.id))!;
        (returned.inputs['nested'] as { a: unknown }).a = 'changed';
        returned.outputs['response']!.push('extra');
        returned.createdAt.setTime(0);
        const [listed] = await executions().listByStatus(['completed'], 1);
        (listed!.inputs['list'] as unknown[]).length = 0;
        listed!.completedAt?.setTime(0);
        expect(await executions().get(execution.id)).to.deep.equal(completedFixture({ id: execution.id, userId: execution.userId }));
      });

      it('is not changed by mutating the execution after creating or updating it', async () => {
        const execution = executionFixture({ inputs: { nested: { value: 1 } } });
        await executions().create(execution);
        (execution.inputs['nested'] as { value: number }).value = 2;
        expect((await executions().get(execution.id))?.inputs).to.deep.equal({ nested: { value: 1 } });
        const running: Execution = { ...execution, inputs: { nested: { value: 1 } }, status: 'running', outputs: { out: [{ v: 1 }] } };
        await executions().update(running, 'queued');
        (running.outputs['out']![0] as { v: number }).v = 2;
        running.outputs['out']!.push('extra');
        expect((await executions().get(execution.id))?.outputs).to.deep.equal({ out: [{ v: 1 }] });
      });
    });
  });
}
