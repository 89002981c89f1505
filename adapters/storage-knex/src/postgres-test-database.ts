import { randomBytes } from 'node:crypto';
import knex from 'knex';
import { createKnexStorage, type KnexStorage, type KnexStorageConfig } from './create-knex-storage.js';

/** The PostgreSQL the specs run against (trust auth on this machine). */
export const TEST_POSTGRES_URL = process.env['BLOCKYARD_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Fails, loudly, when the test PostgreSQL cannot be reached. The PostgreSQL specs never skip:
 * a green run means they ran.
 */
export async function assertPostgresReachable(): Promise<void> {
  const probe = knex({ client: 'pg', connection: TEST_POSTGRES_URL, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 5000 });
  try {
    await probe.raw('select 1');
  } catch (error) {
    const where = process.env['CI'] ? 'CI must start PostgreSQL before the tests' : 'start PostgreSQL (or set BLOCKYARD_TEST_POSTGRES_URL)';
    const url = TEST_POSTGRES_URL.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
    throw new Error(`PostgreSQL at ${url} is unreachable (${(error as Error).message}): ${where}; these specs never skip`);
  } finally {
    await probe.destroy();
  }
}

/** A fresh schema name, so that concurrent or crashed test runs never share tables. */
export function testSchemaName(): string {
  return `blockyard_test_${randomBytes(6).toString('hex')}`;
}

/** Storage in `schema` (a fresh one by default); `drop()` removes the schema and closes it. */
export async function openPostgresTestStorage(
  config: Omit<KnexStorageConfig, 'databaseUrl'> = {},
): Promise<KnexStorage & { schema: string; drop(): Promise<void> }> {
  const schema = config.schema ?? testSchemaName();
  const storage = await createKnexStorage({ ...config, databaseUrl: TEST_POSTGRES_URL, schema });
  return Object.assign(storage, {
    schema,
    async drop() {
      await storage.groupCommit?.flush();
      await storage.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await storage.close();
    },
  });
}
