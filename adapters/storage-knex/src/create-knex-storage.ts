import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knex, { type Knex } from 'knex';
import { GroupCommitter } from './group-commit.js';
import { KnexAgentRepository } from './knex-agent.repository.js';
import { KnexAgentRunRepository } from './knex-agent-run.repository.js';
import { KnexApiKeyRepository } from './knex-api-key.repository.js';
import { KnexCredentialRepository } from './knex-credential.repository.js';
import { KnexOAuthStateRepository } from './knex-oauth-state.repository.js';
import { KnexExecutionRepository } from './knex-execution.repository.js';
import { KnexUserRepository } from './knex-user.repository.js';
import { KnexSessionRepository } from './knex-session.repository.js';
import { KnexLoginThrottleRepository } from './knex-login-throttle.repository.js';
import { KnexWebhookRepository } from './knex-webhook.repository.js';
import { KnexOAuthClientRepository } from './knex-oauth-client.repository.js';
import { KnexOAuthArtifactStore } from './knex-oauth-artifact.store.js';
import { KnexGrantRepository } from './knex-grant.repository.js';
import { KnexExternalExecutionRepository } from './knex-external-execution.repository.js';
import { KnexClientWebhookRepository } from './knex-client-webhook.repository.js';
import { storageMigrationSource } from './migrations/storage-migration-source.js';
import { finalizeCachedStatements } from './sqlite-raw.js';
import { SqliteWriteThread } from './sqlite-write-thread.js';
import { KnexReadRunner, SqliteReadRunner, type ReadRunner } from './read-runner.js';
import { RowCodec } from './row-codec.js';
import type { SqlDialect } from './sql-dialect.js';
import { DirectWriteRunner, type WriteRunner } from './write-runner.js';

export interface KnexStorageConfig {
  /** `postgres://` or `postgresql://` selects PostgreSQL; unset selects the SQLite file. */
  databaseUrl?: string;
  /** Folder of the SQLite file, created if missing. Default `./data`. */
  dataDir?: string;
  /** SQLite file, relative to `dataDir` (or absolute, or `:memory:`). Default `blockyard.sqlite`. */
  filename?: string;
  /** PostgreSQL schema to keep the tables in, created if missing. Default: the server's search_path. */
  schema?: string;
  /** Batch concurrent writes into shared transactions. Default: on for SQLite, off for PostgreSQL. */
  groupCommit?: boolean;
}

/** Opened storage: the repositories over one knex instance. */
export interface KnexStorage {
  readonly users: KnexUserRepository;
  readonly apiKeys: KnexApiKeyRepository;
  readonly executions: KnexExecutionRepository;
  readonly credentials: KnexCredentialRepository;
  readonly sessions: KnexSessionRepository;
  readonly loginThrottle: KnexLoginThrottleRepository;
  readonly oauthStates: KnexOAuthStateRepository;
  readonly agents: KnexAgentRepository;
  readonly agentRuns: KnexAgentRunRepository;
  readonly webhooks: KnexWebhookRepository;
  readonly oauthClients: KnexOAuthClientRepository;
  readonly oauthArtifacts: KnexOAuthArtifactStore;
  readonly grants: KnexGrantRepository;
  readonly externalExecutions: KnexExternalExecutionRepository;
  readonly clientWebhooks: KnexClientWebhookRepository;
  readonly knex: Knex;
  readonly dialect: SqlDialect;
  /** The group committer every write goes through, or null when writes commit one by one. */
  readonly groupCommit: GroupCommitter | null;
  /** Waits for pending writes, then closes the connections. */
  close(): Promise<void>;
}

/**
 * SQLite settings for durable commits that do not block readers, applied to each connection;
 * busy_timeout first, so that the others wait for a lock held by another connection instead of
 * failing at once.
 */
const SQLITE_PRAGMAS = ['busy_timeout = 5000', 'journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON'];
const SQLITE_SETUP_SQL = SQLITE_PRAGMAS.map((pragma) => `PRAGMA ${pragma};`).join(' ');

interface SqliteConnection {
  exec(sql: string, callback: (error: Error | null) => void): void;
}

/** Opens (and migrates) the database the config names. */
export async function createKnexStorage(config: KnexStorageConfig = {}): Promise<KnexStorage> {
  const dialect = dialectOf(config.databaseUrl);
  const db = knex(dialect === 'postgres' ? postgresConfig(config) : sqliteConfig(config));
  try {
    if (dialect === 'postgres' && config.schema) await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [config.schema]);
    await db.migrate.latest({ migrationSource: storageMigrationSource(dialect) });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const useGroupCommit = config.groupCommit ?? dialect === 'sqlite';
  // A file database's batches run on a writer thread of their own (see SqliteWriteThread).
  const writeThread = useGroupCommit && dialect === 'sqlite' && !isMemoryFile(config) ? new SqliteWriteThread(sqliteFilename(config), SQLITE_SETUP_SQL) : null;
  const groupCommit = useGroupCommit ? new GroupCommitter(db, { sqliteDriver: dialect === 'sqlite', ...(writeThread ? { statementBatches: writeThread } : {}) }) : null;
  const writes: WriteRunner = groupCommit ?? new DirectWriteRunner(db);
  const codec = new RowCodec(dialect);
  // SQLite in WAL mode lets readers run beside the one writer: give reads their own
  // connections so that a request's lookups never queue behind a batch's fsync.
  const readPool = dialect === 'sqlite' && !isMemoryFile(config) ? knex(sqliteReaderConfig(config)) : db;
  const reads: ReadRunner = dialect === 'sqlite' ? new SqliteReadRunner(readPool) : new KnexReadRunner(readPool);
  return {
    users: new KnexUserRepository(reads, writes, codec),
    apiKeys: new KnexApiKeyRepository(reads, writes, codec),
    executions: new KnexExecutionRepository(reads, writes, codec),
    credentials: new KnexCredentialRepository(reads, writes, codec),
    sessions: new KnexSessionRepository(reads, writes, codec),
    loginThrottle: new KnexLoginThrottleRepository(reads, writes, codec),
    oauthStates: new KnexOAuthStateRepository(reads, writes, codec),
    agents: new KnexAgentRepository(reads, writes, codec),
    agentRuns: new KnexAgentRunRepository(reads, writes, codec),
    webhooks: new KnexWebhookRepository(reads, writes, codec),
    oauthClients: new KnexOAuthClientRepository(reads, writes, codec),
    oauthArtifacts: new KnexOAuthArtifactStore(reads, writes, codec),
    grants: new KnexGrantRepository(reads, writes, codec),
    externalExecutions: new KnexExternalExecutionRepository(reads, writes, codec),
    clientWebhooks: new KnexClientWebhookRepository(reads, writes, codec),
    knex: db,
    dialect,
    groupCommit,
    async close() {
      await writes.flush();
      await writeThread?.close();
      finalizeCachedStatements(readPool);
      finalizeCachedStatements(db);
      if (readPool !== db) await readPool.destroy();
      await db.destroy();
    },
  };
}

function dialectOf(databaseUrl: string | undefined): SqlDialect {
  if (!databaseUrl) return 'sqlite';
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) return 'postgres';
  throw new Error('databaseUrl must start with postgres:// or postgresql:// (leave it unset for SQLite)');
}

function postgresConfig(config: KnexStorageConfig): Knex.Config {
  return {
    client: 'pg',
    connection: config.databaseUrl,
    ...(config.schema ? { searchPath: [config.schema] } : {}),
    pool: { min: 0, max: 10 },
  };
}

function isMemoryFile(config: KnexStorageConfig): boolean {
  return config.filename === ':memory:';
}

/** Read-only connections to the same file (opened after the writer has migrated it). */
function sqliteReaderConfig(config: KnexStorageConfig): Knex.Config {
  const base = sqliteConfig(config);
  return {
    ...base,
    pool: {
      min: 1,
      max: 4,
      afterCreate: (connection: SqliteConnection, done: (error: Error | null, connection: SqliteConnection) => void) => {
        connection.exec('PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;', (error) => done(error, connection));
      },
    },
  };
}

/** The SQLite file's absolute path, or `:memory:`. */
function sqliteFilename(config: KnexStorageConfig): string {
  const name = config.filename ?? 'blockyard.sqlite';
  return name === ':memory:' ? name : resolve(config.dataDir ?? 'data', name);
}

function sqliteConfig(config: KnexStorageConfig): Knex.Config {
  const filename = sqliteFilename(config);
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  return {
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    // One connection: SQLite has one writer anyway, and group commit needs writes in order.
    pool: {
      min: 1,
      max: 1,
      afterCreate: (connection: SqliteConnection, done: (error: Error | null, connection: SqliteConnection) => void) => {
        connection.exec(SQLITE_SETUP_SQL, (error) => done(error, connection));
      },
    },
  };
}
