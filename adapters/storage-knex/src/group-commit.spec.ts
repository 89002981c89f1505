import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError } from '@blockyard/core';
import { executionFixture } from '@blockyard/core/testing';
import { expect } from 'chai';
import knex, { type Knex } from 'knex';
import { createKnexStorage, type KnexStorage } from './create-knex-storage.js';
import { GroupCommitter } from './group-commit.js';
import { assertPostgresReachable, openPostgresTestStorage } from './postgres-test-database.js';

/** Opens storage whose writes go through a GroupCommitter. */
type OpenGroupCommitStorage = () => Promise<{ storage: KnexStorage; close(): Promise<void> }>;

const storages: Array<[string, OpenGroupCommitStorage]> = [
  [
    'SQLite (atomic statements, no savepoints)',
    async () => {
      const storage = await createKnexStorage({ filename: ':memory:' });
      return { storage, close: () => storage.close() };
    },
  ],
  [
    'a SQLite file (batches on the writer thread)',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'blockyard-group-commit-'));
      const storage = await createKnexStorage({ dataDir });
      return {
        storage,
        close: async () => {
          await storage.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'PostgreSQL (a savepoint per write)',
    async () => {
      await assertPostgresReachable();
      const storage = await openPostgresTestStorage({ groupCommit: true });
      return { storage, close: () => storage.drop() };
    },
  ],
];

describe('GroupCommitter', () => {
  for (const [name, open] of storages) {
    describe(`in the storage on ${name}`, () => {
      let opened: Awaited<ReturnType<OpenGroupCommitStorage>> | undefined;
      let storage: KnexStorage;
      let committer: GroupCommitter;

      beforeEach(async () => {
        opened = await open();
        storage = opened.storage;
        committer = storage.groupCommit!;
      });
      afterEach(async () => {
        await opened?.close();
        opened = undefined;
      });

      it('commits 100 concurrent creates in far fewer than 100 transactions', async () => {
        const before = committer.committedBatches;
        const executions = Array.from({ length: 100 }, () => executionFixture());
        await Promise.all(executions.map((execution) => storage.executions.create(execution)));
        const batches = committer.committedBatches - before;
        expect(batches).to.be.greaterThan(0);
        expect(batches).to.be.at.most(3);
        expect(await storage.executions.listByStatus(['queued'], 1000)).to.have.length(100);
      });

      it('rejects only the failing write of a batch and commits the others', async () => {
        const existing = executionFixture();
        await storage.executions.create(existing);
        const before = committer.committedBatches;
        const fresh = Array.from({ length: 40 }, () => executionFixture());
        const writes = [...fresh.slice(0, 20), { ...existing, blockId: 'duplicate' }, ...fresh.slice(20)];
        const results = await Promise.allSettled(writes.map((execution) => storage.executions.create(execution)));

        expect(results.filter((r) => r.status === 'rejected')).to.have.length(1);
        const failed = results[20] as PromiseRejectedResult;
        expect(failed.status).to.equal('rejected');
        expect(failed.reason).to.be.instanceOf(ConflictError);
        expect(committer.committedBatches - before).to.be.at.most(3);
        for (const execution of fresh) expect(await storage.executions.get(execution.id)).to.deep.equal(execution);
        expect(await storage.executions.get(existing.id)).to.deep.equal(existing);
      });
    });
  }

  describe('on a SQLite file with another writer', () => {
    it('runs a write again in the next batch when another connection committed between its read and its write (SQLITE_BUSY)', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'blockyard-group-commit-busy-'));
      const file = join(dataDir, 'db.sqlite');
      const db = knex({ client: 'sqlite3', connection: { filename: file }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
      const other = knex({ client: 'sqlite3', connection: { filename: file }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
      try {
        await db.raw('PRAGMA journal_mode = WAL');
        await db.schema.createTable('counters', (table) => {
          table.text('id').primary();
          table.integer('n');
        });
        await db('counters').insert({ id: 'c', n: 0 });
        const committer = new GroupCommitter(db, { sqliteDriver: true });
        let attempts = 0;
        const result = await committer.run(async (trx) => {
          attempts += 1;
          const row = (await trx('counters').where('id', 'c').first()) as { n: number };
          // Another connection commits after this transaction read: its write below is refused at once.
          if (attempts === 1) await other('counters').where('id', 'c').update({ n: 100 });
          await trx('counters').where('id', 'c').update({ n: row.n + 1 });
          return row.n + 1;
        });
        expect(attempts).to.equal(2);
        expect(result).to.equal(101);
        expect(await db('counters').where('id', 'c').first()).to.deep.equal({ id: 'c', n: 101 });
      } finally {
        await other.destroy();
        await db.destroy();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('on its own', () => {
    let db: Knex;

    beforeEach(async () => {
      db = knex({ client: 'sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
      await db.schema.createTable('notes', (table) => table.text('id').primary());
    });
    afterEach(() => db.destroy());

    const ids = async () => (await db('notes').orderBy('id').select('id')).map((row: { id: string }) => row.id);

    it('rolls back a failing write to its savepoint, keeping the writes before and after it', async () => {
      const committer = new GroupCommitter(db);
      const results = await Promise.allSettled([
        committer.run((trx) => trx('notes').insert({ id: 'a' })),
        committer.run(async (trx) => {
          await trx('notes').insert({ id: 'b' });
          throw new Error('handler failed after writing');
        }),
        committer.run((trx) => trx('notes').insert({ id: 'c' })),
        committer.run(async (trx) => (await trx('notes').count({ n: '*' }))[0]),
      ]);
      expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason.message).to.equal('handler failed after writing');
      expect((results[3] as PromiseFulfilledResult<{ n: number }>).value).to.deep.equal({ n: 2 });
      expect(await ids()).to.deep.equal(['a', 'c']);
    });

    it('runs single statements side by side, a failing one undone by SQLite alone, beside savepointed writes', async () => {
      const committer = new GroupCommitter(db, { atomicStatements: true });
      await committer.runStatement((trx) => trx('notes').insert({ id: 'taken' }));
      const before = committer.committedBatches;
      const results = await Promise.allSettled([
        committer.runStatement((trx) => trx('notes').insert({ id: 's1' })),
        committer.run(async (trx) => {
          await trx('notes').insert({ id: 'r1' });
          await trx('notes').insert({ id: 'taken' });
        }),
        committer.runStatement((trx) => trx('notes').insert({ id: 'taken' })),
        committer.runStatement((trx) => trx('notes').insert({ id: 's2' })),
        committer.run((trx) => trx('notes').insert({ id: 'r2' }).then(() => 'ok')),
        committer.runStatement<number>((trx) => trx('notes').where('id', 'taken').update({ id: 'taken' })),
      ]);
      expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect((results[4] as PromiseFulfilledResult<string>).value).to.equal('ok');
      expect((results[5] as PromiseFulfilledResult<number>).value).to.equal(1);
      expect(committer.committedBatches - before).to.equal(1);
      expect(await ids()).to.deep.equal(['r2', 's1', 's2', 'taken']);
    });

    it('answers each caller with what its own write returned', async () => {
      const committer = new GroupCommitter(db);
      const values = await Promise.all([1, 2, 3].map((n) => committer.run(async (trx) => {
        await trx('notes').insert({ id: `n${n}` });
        return n * 10;
      })));
      expect(values).to.deep.equal([10, 20, 30]);
    });

    it('caps a batch at maxBatchSize writes', async () => {
      const committer = new GroupCommitter(db, { maxBatchSize: 10 });
      await Promise.all(Array.from({ length: 100 }, (_, i) => committer.run((trx) => trx('notes').insert({ id: `n${i}` }))));
      expect(committer.committedBatches).to.be.at.least(10);
      expect(await ids()).to.have.length(100);
    });

    it('starts a new batch for writes arriving after the queue drained', async () => {
      const committer = new GroupCommitter(db);
      await committer.run((trx) => trx('notes').insert({ id: 'first' }));
      await committer.run((trx) => trx('notes').insert({ id: 'second' }));
      expect(committer.committedBatches).to.equal(2);
      expect(await ids()).to.deep.equal(['first', 'second']);
    });

    it('rejects every write of a batch whose transaction cannot start, instead of hanging', async () => {
      const committer = new GroupCommitter(db);
      await db.destroy();
      const results = await Promise.allSettled([1, 2].map((n) => committer.run((trx) => trx('notes').insert({ id: `n${n}` }))));
      expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
      await committer.flush();
    });
  });
});
