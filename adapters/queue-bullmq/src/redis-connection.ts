import { Redis, type RedisOptions } from 'ioredis';

/**
 * ioredis options for a `redis://[user:password@]host[:port][/db]` or `rediss://` (TLS) URL.
 * Throws, without repeating the URL (it may hold a password), when it is not one.
 */
export function redisOptionsFromUrl(redisUrl: string): RedisOptions {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new Error('the Redis URL is not a URL (expected redis://host:port)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`the Redis URL must start with redis:// or rediss:// (got ${url.protocol}//)`);
  const db = url.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new Error('the Redis URL path must be a database number (redis://host:port/0)');
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Where Redis is, for log lines and errors: host and port, never a password. */
export function describeRedis(options: RedisOptions): string {
  return `${options.host ?? '127.0.0.1'}:${options.port ?? 6379}${options.db ? `/${options.db}` : ''}`;
}

/**
 * Waits until a fresh connection answers PING; rejects with a clear message after `timeoutMs`.
 * The server calls it at start so that a wrong or down Redis stops it instead of leaving it
 * retrying in the background.
 */
export async function assertRedisReachable(options: RedisOptions, timeoutMs = 5000): Promise<void> {
  const probe = new Redis({ ...options, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: timeoutMs });
  let cause: string | null = null;
  probe.on('error', (e: Error) => (cause ??= e.message)); // the socket's own error says more than ioredis's "Connection is closed."
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new Error(`Redis at ${describeRedis(options)} is unreachable: ${cause ?? (e as Error).message}`);
  } finally {
    probe.disconnect();
  }
}
