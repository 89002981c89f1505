import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyRepository, ExecutionRepository, UserRepository, type Execution } from '@blockyard/core';
import { apiKeyFixture, executionFixture, fixedDate, richInputs, userFixture } from '@blockyard/core/testing';
import { expect } from 'chai';
import { Container } from 'inversify';
import { createKnexStorage, type KnexStorage } from './create-knex-storage.js';
import { storageMigrationSource, STORAGE_MIGRATIONS } from './migrations/storage-migration-source.js';
import { assertPostgresReachable, openPostgresTestStorage, testSchemaName } from './postgres-test-database.js';
import { knexStorageModule } from './storage-knex.module.js';

/** Writes one of each aggregate, including an update, and answers what should be read back. */
async function writeSample(storage: KnexStorage) {
  const user = userFixture();
  const key = apiKeyFixture({ userId: user.id, lastUsedAt: fixedDate(5) });
  const queued = executionFixture({ userId: user.id, inputs: richInputs() });
  const running: Execution = { ...queued, status: 'running', attempts: 1, startedAt: fixedDate(10) };
  await storage.users.create(user);
  await storage.apiKeys.create(key);
  await storage.executions.create(queued);
  expect(await storage.executions.update(running, 'queued')).to.equal(true);
  return { user, key, execution: running };
}

async function expectSample(storage: KnexStorage, sample: Awaited<ReturnType<typeof writeSample>>): Promise<void> {
  expect(await storage.users.get(sample.user.id)).to.deep.equal(sample.user);
  expect(await storage.apiKeys.findByHash(sample.key.hash)).to.deep.equal(sample.key);
  expect(await storage.executions.get(sample.execution.id)).to.deep.equal(sample.execution);
}

async function expectMigrationsComplete(storage: KnexStorage): Promise<void> {
  const migrationSource = storageMigrationSource(storage.dialect);
  const [, pending] = (await storage.knex.migrate.list({ migrationSource })) as [unknown[], unknown[]];
  expect(pending).to.deep.equal([]);
  const [, applied] = (await storage.knex.migrate.latest({ migrationSource })) as [number, string[]];
  expect(applied).to.deep.equal([]);
  const rows = await storage.knex('knex_migrations').select('name');
  expect(rows.map((row: { name: string }) => row.name)).to.deep.equal(STORAGE_MIGRATIONS.map((m) => m.name));
}

describe('createKnexStorage', () => {
  describe('on SQLite', () => {
    let dataDir: string;
    beforeEach(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'blockyard-knex-'));
    });
    afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

    it('creates <dataDir>/blockyard.sqlite, making missing folders', async () => {
      const nested = join(dataDir, 'a', 'b');
      const storage = await createKnexStorage({ dataDir: nested });
      await storage.close();
      expect(existsSync(join(nested, 'blockyard.sqlite'))).to.equal(true);
    });

    it('opens the connection in WAL mode with durable commits, foreign keys and a busy timeout', async () => {
      const storage = await createKnexStorage({ dataDir, filename: 'pragmas.sqlite' });
      try {
        const pragma = async (name: string) => Object.values((await storage.knex.raw(`PRAGMA ${name}`))[0] as object)[0];
        expect(await pragma('journal_mode')).to.equal('wal');
        expect(await pragma('synchronous')).to.equal(2); // FULL
        expect(await pragma('foreign_keys')).to.equal(1);
        expect(await pragma('busy_timeout')).to.equal(5000);
        expect(storage.groupCommit).to.not.equal(null);
      } finally {
        await storage.close();
      }
    });

    it('keeps the data for the next storage opened on the same file, and migrates only once', async () => {
      const first = await createKnexStorage({ dataDir });
      const sample = await writeSample(first);
      await first.close();

      const second = await createKnexStorage({ dataDir });
      try {
        await expectSample(second, sample);
        await expectMigrationsComplete(second);
      } finally {
        await second.close();
      }
    });

    it('writes everything still pending before close() resolves', async () => {
      const first = await createKnexStorage({ dataDir });
      const executions = Array.from({ length: 50 }, () => executionFixture());
      const writes = executions.map((execution) => first.executions.create(execution));
      await first.close();
      await Promise.all(writes);
      const second = await createKnexStorage({ dataDir });
      try {
        expect(await second.executions.listByStatus(['queued'], 100)).to.have.length(50);
      } finally {
        await second.close();
      }
    });

    it('rejects a databaseUrl that is not PostgreSQL', async () => {
      let thrown: unknown;
      await createKnexStorage({ databaseUrl: 'mysql://localhost/db' }).catch((error: unknown) => (thrown = error));
      expect(thrown).to.be.instanceOf(Error);
      expect((thrown as Error).message).to.match(/postgres:\/\//);
    });
  });

  describe('on PostgreSQL', () => {
    before(assertPostgresReachable);

    it('keeps the data for the next storage opened on the same schema, and migrates only once', async () => {
      const schema = testSchemaName();
      const first = await openPostgresTestStorage({ schema });
      const sample = await writeSample(first).catch(async (error: unknown) => {
        await first.drop();
        throw error;
      });
      await first.close();
      const second = await openPostgresTestStorage({ schema });
      try {
        await expectSample(second, sample);
        await expectMigrationsComplete(second);
        expect(second.groupCommit).to.equal(null);
      } finally {
        await second.drop();
      }
    });
  });

  describe('knexStorageModule', () => {
    it('binds the three storage ports to the storage repositories', async () => {
      const storage = await createKnexStorage({ filename: ':memory:' });
      try {
        const container = new Container();
        await container.load(knexStorageModule(storage));
        expect(container.get(UserRepository)).to.equal(storage.users);
        expect(container.get(ApiKeyRepository)).to.equal(storage.apiKeys);
        expect(container.get(ExecutionRepository)).to.equal(storage.executions);
      } finally {
        await storage.close();
      }
    });
  });
});
