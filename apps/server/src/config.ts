import { isAbsolute, resolve } from 'node:path';
import { readRateLimitConfig, type RateLimitConfig } from './rate-limit-config.js';

export const FIRST_PARTY_PLUGINS = [
  '@blockyard/plugin-example',
  '@blockyard/plugin-http',
  '@blockyard/plugin-github',
  '@blockyard/plugin-slack',
  '@blockyard/plugin-linear',
  '@blockyard/plugin-notion',
] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const QUEUES = ['memory', 'bullmq'] as const;
/** Where executions wait for a worker: process memory, or BullMQ on Redis (shared by processes). */
export type QueueKind = (typeof QUEUES)[number];
export const SERVER_ROLES = ['all', 'api', 'worker'] as const;
/** What this process runs: the HTTP API, the worker, or both. */
export type ServerRole = (typeof SERVER_ROLES)[number];

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://... for PostgreSQL, `memory:` for throwaway in-memory storage; unset for the SQLite file in dataDir. */
  databaseUrl: string | null;
  /** PostgreSQL schema holding the tables (created if missing); null: the database's search_path. */
  databaseSchema: string | null;
  /** What this process runs (BLOCKYARD_ROLE or `serve --role`). api and worker need a shared queue. */
  role: ServerRole;
  queue: QueueKind;
  /** BLOCKYARD_REDIS_URL, for the bullmq queue; may hold a password, so never logged. */
  redisUrl: string;
  /** BullMQ queue name: processes that share work use the same one on the same Redis. */
  queueName: string;
  /** Deliveries of an execution's job before it is given up (a worker crash or an infrastructure error each use one). */
  queueMaxAttempts: number;
  /** How long a worker's lease on a job lasts unless renewed; a crashed worker's executions are picked up after about this long. */
  workerVisibilityTimeoutMs: number;
  /** Role worker only: a port for GET /healthz; null for none. */
  healthPort: number | null;
  plugins: string[];
  logLevel: LogLevel;
  /** Executions one worker runs at once. */
  workerConcurrency: number;
  /** Provider name -> base URL overriding the plugin's (GitHub Enterprise, a local stand-in ...). */
  providerBaseUrls: Record<string, string>;
  /** Hosts, IPs or CIDRs block runs may reach although internal (the SSRF guard refuses them otherwise). */
  outboundAllowHosts: string[];
  /** BLOCKYARD_ENCRYPTION_KEYS (`kid:base64key,...`, first active); null: the key file in dataDir. */
  encryptionKeys: string | null;
  /** BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS: days inbound webhook delivery records (for duplicate detection) are kept; older ones are pruned hourly. */
  webhookDeliveryKeepDays: number;
  /** Rate limits per client and endpoint class (BLOCKYARD_RATE_LIMITS, BLOCKYARD_RATE_LIMIT_*). */
  rateLimits: RateLimitConfig;
  /** The environment, for the system credentials plugins declare (`default_credential.env`). */
  env: Readonly<Record<string, string | undefined>>;
}

/** Bad configuration: every problem at once, each naming its variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the server's configuration from environment variables. The only place (with the CLI)
 * that looks at the environment.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServerConfig {
  const problems: string[] = [];

  const port = intVar(env, 'PORT', 8080, 0, 65535, problems);
  const host = (env.HOST ?? '127.0.0.1').trim();
  if (!host) problems.push('HOST must not be empty');

  const dataDirRaw = (env.BLOCKYARD_DATA_DIR ?? './.blockyard').trim();
  if (!dataDirRaw) problems.push('BLOCKYARD_DATA_DIR must not be empty');
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);

  const databaseUrl = env.BLOCKYARD_DATABASE_URL?.trim() || null;
  if (databaseUrl && !/^(postgres|postgresql):\/\/.+/.test(databaseUrl) && databaseUrl !== 'memory:') {
    problems.push('BLOCKYARD_DATABASE_URL must be a postgres:// URL or memory: (unset means the SQLite file in BLOCKYARD_DATA_DIR)');
  }

  const databaseSchema = env.BLOCKYARD_DATABASE_SCHEMA?.trim() || null;
  if (databaseSchema) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) problems.push(`BLOCKYARD_DATABASE_SCHEMA must be a lower-case SQL name: letters, digits and _ (got ${JSON.stringify(databaseSchema)})`);
    else if (!databaseUrl || databaseUrl === 'memory:') problems.push('BLOCKYARD_DATABASE_SCHEMA applies to PostgreSQL only: set BLOCKYARD_DATABASE_URL to a postgres:// URL');
  }

  const role = (env.BLOCKYARD_ROLE?.trim().toLowerCase() || 'all') as ServerRole;
  if (!SERVER_ROLES.includes(role)) problems.push(`BLOCKYARD_ROLE must be one of ${SERVER_ROLES.join(', ')} (got ${JSON.stringify(env.BLOCKYARD_ROLE)})`);
  const queue = (env.BLOCKYARD_QUEUE?.trim().toLowerCase() || 'memory') as QueueKind;
  if (!QUEUES.includes(queue)) problems.push(`BLOCKYARD_QUEUE must be one of ${QUEUES.join(', ')} (got ${JSON.stringify(env.BLOCKYARD_QUEUE)})`);
  else if (queue === 'memory' && (role === 'api' || role === 'worker')) {
    problems.push(`BLOCKYARD_ROLE=${role} needs a queue shared between processes: set BLOCKYARD_QUEUE=bullmq (the memory queue lives in one process, so its API and workers cannot be apart)`);
  }
  const redisUrl = env.BLOCKYARD_REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\/[^/?#]+(\/\d+)?\/?$/.test(redisUrl)) problems.push('BLOCKYARD_REDIS_URL must be redis://[user:password@]host[:port][/db] or rediss://...');
  const queueName = env.BLOCKYARD_QUEUE_NAME?.trim() || 'executions';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(queueName)) problems.push(`BLOCKYARD_QUEUE_NAME must be letters, digits, '.', '_' or '-' (got ${JSON.stringify(queueName)})`);
  const queueMaxAttempts = intVar(env, 'BLOCKYARD_QUEUE_MAX_ATTEMPTS', 5, 1, 100, problems);
  const workerVisibilityTimeoutMs = intVar(env, 'BLOCKYARD_WORKER_VISIBILITY_TIMEOUT_MS', 30_000, 200, 3_600_000, problems);
  const healthPortRaw = env.BLOCKYARD_HEALTH_PORT?.trim();
  const healthPort = healthPortRaw ? intVar(env, 'BLOCKYARD_HEALTH_PORT', 0, 0, 65535, problems) : null;
  if (healthPortRaw && role !== 'worker') problems.push('BLOCKYARD_HEALTH_PORT is for BLOCKYARD_ROLE=worker (the other roles answer GET /healthz on PORT)');

  const plugins =
    env.BLOCKYARD_PLUGINS === undefined
      ? [...FIRST_PARTY_PLUGINS]
      : env.BLOCKYARD_PLUGINS.split(',')
          .map((s) => s.trim())
          .filter(Boolean);

  const logLevel = (env.LOG_LEVEL?.trim().toLowerCase() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(env.LOG_LEVEL)})`);

  const workerConcurrency = intVar(env, 'BLOCKYARD_WORKER_CONCURRENCY', 16, 1, 1024, problems);
  const webhookDeliveryKeepDays = intVar(env, 'BLOCKYARD_WEBHOOK_DELIVERY_KEEP_DAYS', 7, 1, 3650, problems);

  const providerBaseUrls: Record<string, string> = {};
  for (const pair of list(env.BLOCKYARD_PROVIDER_BASE_URLS)) {
    const m = /^([a-z][a-z0-9_-]*)=(https?:\/\/\S+)$/.exec(pair);
    if (!m) problems.push(`BLOCKYARD_PROVIDER_BASE_URLS entries are provider=http(s)://url (got ${JSON.stringify(pair)})`);
    else providerBaseUrls[m[1]!] = m[2]!;
  }
  const outboundAllowHosts = list(env.BLOCKYARD_OUTBOUND_ALLOW_HOSTS);
  const rateLimits = readRateLimitConfig(env, queue === 'bullmq', problems);
  if (trustProxyOf(env) === undefined) problems.push(`BLOCKYARD_TRUST_PROXY must be true or false (got ${JSON.stringify(env.BLOCKYARD_TRUST_PROXY)})`);

  if (problems.length) throw new ConfigError(problems);
  const encryptionKeys = env.BLOCKYARD_ENCRYPTION_KEYS?.trim() || null;
  return {
    port,
    host,
    dataDir,
    databaseUrl,
    databaseSchema,
    role,
    queue,
    redisUrl,
    queueName,
    queueMaxAttempts,
    workerVisibilityTimeoutMs,
    healthPort,
    plugins,
    logLevel,
    workerConcurrency,
    providerBaseUrls,
    outboundAllowHosts,
    encryptionKeys,
    webhookDeliveryKeepDays,
    rateLimits,
    env,
  };
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return fallback;
  }
  return Number(raw);
}

/** Where the database lives, for log lines: never the password of a URL. */
export function describeDatabase(config: ServerConfig): string {
  if (config.databaseUrl === 'memory:') return 'memory';
  if (config.databaseUrl) {
    try {
      const url = new URL(config.databaseUrl);
      return `postgres ${url.hostname}:${url.port || 5432}${url.pathname}${config.databaseSchema ? ` schema ${config.databaseSchema}` : ''}`;
    } catch {
      return 'postgres';
    }
  }
  return `sqlite ${config.dataDir}/blockyard.sqlite`;
}

/** Which queue, and where, for log lines: never the password of a Redis URL. */
export function describeQueue(config: ServerConfig): string {
  if (config.queue === 'memory') return 'memory';
  try {
    const url = new URL(config.redisUrl);
    return `bullmq ${url.hostname}:${url.port || 6379}${url.pathname.length > 1 ? url.pathname : ''} queue ${config.queueName}`;
  } catch {
    return `bullmq queue ${config.queueName}`;
  }
}

/** BLOCKYARD_TRUST_PROXY: trust X-Forwarded-Proto/-For from a reverse proxy (default false); undefined when invalid. */
export function trustProxyOf(env: NodeJS.ProcessEnv): boolean | undefined {
  const raw = env.BLOCKYARD_TRUST_PROXY?.trim().toLowerCase();
  if (!raw || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  return undefined;
}
