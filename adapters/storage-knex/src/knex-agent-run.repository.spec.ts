import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyState, type AgentExecutionState, type NodeRun } from '@blockyard/core';
import { agentRunRepositoryContract, fixedDate, nodeRunFixture, uniqueSuffix } from '@blockyard/core/testing';
import { expect } from 'chai';
import { createKnexStorage, type KnexStorage } from './create-knex-storage.js';
import { nativeSql, sqliteAll, withSqliteConnection } from './sqlite-raw.js';
import { assertPostgresReachable, openPostgresTestStorage } from './postgres-test-database.js';

type Open = () => Promise<{ storage: KnexStorage; close(): Promise<void> }>;

async function openSqlite(groupCommit: boolean): Promise<{ storage: KnexStorage; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'blockyard-agent-runs-'));
  const storage = await createKnexStorage({ dataDir, groupCommit });
  return {
    storage,
    async close() {
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(groupCommit: boolean): Promise<{ storage: KnexStorage; close(): Promise<void> }> {
  await assertPostgresReachable();
  const storage = await openPostgresTestStorage({ groupCommit });
  return { storage, close: () => storage.drop() };
}

const storages: Array<[string, Open]> = [
  ['SQLite, group commit on the driver path', () => openSqlite(true)],
  ['SQLite, one transaction per write', () => openSqlite(false)],
  ['PostgreSQL, one transaction per write', () => openPostgres(false)],
  ['PostgreSQL, group commit', () => openPostgres(true)],
];

function state(version: number, overrides: Partial<AgentExecutionState> = {}): AgentExecutionState {
  return { ...emptyState(null), version, runs: version, ...overrides };
}

describe('KnexAgentRunRepository', () => {
  // The contract again on the write paths storage-knex.spec.ts does not cover.
  let opened: Awaited<ReturnType<Open>> | undefined;
  describe('SQLite without group commit', () => {
    beforeEach(async () => {
      opened = await openSqlite(false);
    });
    afterEach(async () => {
      await opened?.close();
      opened = undefined;
    });
    agentRunRepositoryContract(() => opened!.storage.agentRuns);
  });

  for (const [name, open] of storages) {
    describe(`on ${name}`, () => {
      let storage: KnexStorage;
      beforeEach(async () => {
        opened = await open();
        storage = opened.storage;
      });
      afterEach(async () => {
        await opened?.close();
        opened = undefined;
      });

      it('commits 1,000 runs in one commit, then updates them all in the next', async () => {
        const executionId = `exec-${uniqueSuffix()}`;
        const runs = Array.from({ length: 1000 }, (_, i) => nodeRunFixture(executionId, { seq: i + 1, inputs: { i, text: `n° ${i} ✓` }, dispatchedBy: i % 2 ? null : 'start' }));
        expect(await storage.agentRuns.commit(executionId, 0, state(1), runs)).to.equal(true);
        expect(await storage.agentRuns.listRuns(executionId)).to.deep.equal(runs);
        const done = runs.map((run): NodeRun => ({ ...run, status: 'completed', outputs: { out: [run.seq] }, completedAt: fixedDate(run.seq) }));
        expect(await storage.agentRuns.commit(executionId, 1, state(2), done)).to.equal(true);
        expect(await storage.agentRuns.listRuns(executionId)).to.deep.equal(done);
        expect(await storage.agentRuns.backlog(executionId, 10)).to.deep.equal([]);
      });

      it('writes nothing, state or runs, when a commit fails after its compare-and-set', async () => {
        const executionId = `exec-${uniqueSuffix()}`;
        const first = nodeRunFixture(executionId);
        await storage.agentRuns.commit(executionId, 0, state(1), [first]);
        const good = nodeRunFixture(executionId);
        const bad = nodeRunFixture(executionId, { nodeId: null as unknown as string });
        const changed = { ...first, status: 'completed' as const };
        const failing = storage.agentRuns.commit(executionId, 1, state(2, { active: 5 }), [changed, good, bad]);
        // Other writes of the same batch still commit.
        const other = `exec-${uniqueSuffix()}`;
        const [outcome, otherCommitted] = await Promise.allSettled([failing, storage.agentRuns.commit(other, 0, state(1), [nodeRunFixture(other)])]);
        expect(outcome.status).to.equal('rejected');
        expect(otherCommitted).to.deep.equal({ status: 'fulfilled', value: true });
        expect(await storage.agentRuns.getState(executionId)).to.deep.equal(state(1));
        expect(await storage.agentRuns.listRuns(executionId)).to.deep.equal([first]);
        expect(await storage.agentRuns.listRuns(other)).to.have.length(1);
        // And the version it failed on is still free.
        expect(await storage.agentRuns.commit(executionId, 1, state(2), [changed, good])).to.equal(true);
      });

      it('keeps the compare-and-set exact in batches that mix in multi-statement writes', async () => {
        const executionId = `exec-${uniqueSuffix()}`;
        // A `run` write first: on SQLite the whole batch then goes through a knex transaction.
        const blocker = storage.groupCommit?.run(async (db) => db.raw('select 1'));
        const firsts = Array.from({ length: 8 }, (_, i) => storage.agentRuns.commit(executionId, 0, state(1, { active: i }), [nodeRunFixture(executionId)]));
        const emptyFirsts = Array.from({ length: 4 }, () => storage.agentRuns.commit(`${executionId}-empty`, 0, state(1), []));
        await blocker;
        expect((await Promise.all(firsts)).filter(Boolean)).to.have.length(1);
        expect((await Promise.all(emptyFirsts)).filter(Boolean)).to.have.length(1);
        expect(await storage.agentRuns.listRuns(executionId)).to.have.length(1);

        const blocker2 = storage.groupCommit?.run(async (db) => db.raw('select 1'));
        const nexts = Array.from({ length: 8 }, () => storage.agentRuns.commit(executionId, 1, state(2), [nodeRunFixture(executionId)]));
        await blocker2;
        expect((await Promise.all(nexts)).filter(Boolean)).to.have.length(1);
        expect(await storage.agentRuns.listRuns(executionId)).to.have.length(2);
        expect((await storage.agentRuns.getState(executionId))?.version).to.equal(2);
      });
    });
  }

  describe('on SQLite', () => {
    let storage: KnexStorage;
    beforeEach(async () => {
      opened = await openSqlite(true);
      storage = opened.storage;
    });
    afterEach(async () => {
      await opened?.close();
      opened = undefined;
    });

    it('upserts the runs a commit carries and keeps none of them in incoming_runs', async () => {
      const executionId = `exec-${uniqueSuffix()}`;
      const runs = Array.from({ length: 5 }, () => nodeRunFixture(executionId));
      await storage.agentRuns.commit(executionId, 0, state(1), runs.slice(0, 3));
      await storage.agentRuns.commit(executionId, 1, state(2), runs.slice(2));
      await storage.agentRuns.commit(executionId, 2, state(3), []);
      expect(await storage.agentRuns.listRuns(executionId)).to.deep.equal(runs);
      const rows = await storage.knex('agent_execution_states').whereNotNull('incoming_runs').count({ n: '*' });
      expect(Number(rows[0]?.n)).to.equal(0);
    });

    it('answers the backlog from its partial index', async () => {
      const query = storage.knex('node_runs').where('execution_id', 'e').whereRaw("dispatched_by IS NULL AND status = 'queued'").orderBy('seq').limit(5);
      const { sql, bindings } = nativeSql(query);
      const plan = await withSqliteConnection(storage.knex, (connection) => sqliteAll<{ detail: string }>(connection, `EXPLAIN QUERY PLAN ${sql}`, bindings));
      expect(plan.map((step) => step.detail).join('\n')).to.match(/USING INDEX node_runs_backlog_index/);
    });
  });
});
