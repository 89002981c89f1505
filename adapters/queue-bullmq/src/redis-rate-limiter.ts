import { Redis, type RedisOptions } from 'ioredis';
import { assertRateLimitRules, rateLimitDecision, silentLogger, type Logger, type RateLimitDecision, type RateLimiter, type RateLimitRule, type RateLimitWindow } from '@blockyard/core';

export interface RedisRateLimiterOptions {
  connection: RedisOptions;
  /** Key prefix, e.g. `blockyard:rate-limit:executions:`; processes that share limits use the same. */
  prefix: string;
  /** Longest wait for Redis's answer before a consume fails. Default 1000 ms. */
  commandTimeoutMs?: number;
  logger?: Logger;
}

/**
 * One consume for all rules of a key, run by Redis as a whole (so atomic across processes).
 * KEYS: one hash per rule ({ s: window start, c: count }); ARGV: now, then limit and window
 * (ms) per rule. A window a little ahead of `now` (another process's clock) still counts.
 * Counts only when every rule has room. Replies allowed (1|0), then start and count per rule.
 */
const CONSUME_SCRIPT = `
local now = tonumber(ARGV[1])
local starts, counts = {}, {}
local allowed = 1
for i = 1, #KEYS do
  local limit, window = tonumber(ARGV[i * 2]), tonumber(ARGV[i * 2 + 1])
  local stored = redis.call('HMGET', KEYS[i], 's', 'c')
  local s, c = tonumber(stored[1]), tonumber(stored[2])
  if s == nil or c == nil or now >= s + window then s = now; c = 0 end
  starts[i], counts[i] = s, c
  if c >= limit then allowed = 0 end
end
local reply = { allowed }
for i = 1, #KEYS do
  if allowed == 1 then
    counts[i] = counts[i] + 1
    redis.call('HSET', KEYS[i], 's', string.format('%.0f', starts[i]), 'c', counts[i])
    redis.call('PEXPIRE', KEYS[i], string.format('%.0f', starts[i] + tonumber(ARGV[i * 2 + 1]) - now + 1000))
  end
  reply[#reply + 1] = starts[i]
  reply[#reply + 1] = counts[i]
end
return reply
`;

type ConsumeCommand = (numKeys: number, ...keysAndArgs: Array<string | number>) => Promise<number[]>;

/**
 * Rate limit counters in Redis, shared by every process on the same Redis and prefix (an
 * `api` role deployment). Each consume is one Lua script, atomic in Redis however many
 * processes race. A key's rules hash to one slot (`{key}`), so it also works on a cluster.
 * Counters expire a second after their window ends.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  #closed = false;

  constructor(options: RedisRateLimiterOptions) {
    this.#prefix = options.prefix;
    const logger = options.logger ?? silentLogger;
    this.#redis = new Redis({
      ...options.connection,
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectionName: 'blockyard-rate-limit',
    });
    let lastError = '';
    this.#redis.on('error', (e: Error) => {
      if (e.message === lastError) return; // ioredis repeats the same error on every reconnect attempt
      lastError = e.message;
      logger.warn('rate limits: Redis error', { error: e.message });
    });
    this.#redis.on('ready', () => (lastError = ''));
    this.#redis.defineCommand('blockyardRateLimitConsume', { lua: CONSUME_SCRIPT });
  }

  async consume(key: string, rules: readonly RateLimitRule[], now: number): Promise<RateLimitDecision> {
    assertRateLimitRules(key, rules);
    const keys = rules.map((rule) => `${this.#prefix}{${key}}:${rule.windowMs}`);
    const args = [Math.floor(now), ...rules.flatMap((rule) => [rule.limit, rule.windowMs])];
    const command = (this.#redis as unknown as { blockyardRateLimitConsume: ConsumeCommand }).blockyardRateLimitConsume;
    const reply = await command.call(this.#redis, keys.length, ...keys, ...args);
    const windows: RateLimitWindow[] = rules.map((_, i) => ({ start: Number(reply[1 + i * 2]), count: Number(reply[2 + i * 2]) }));
    return rateLimitDecision(rules, windows, reply[0] === 1, now);
  }

  /** Releases the Redis connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
