import { expect } from 'chai';
import { Redis } from 'ioredis';
import { rateLimiterContract } from '@blockyard/core/testing';
import { assertRedisReachable, redisOptionsFromUrl } from './redis-connection.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';
import { TEST_REDIS_URL, testQueueName } from './redis-test-queue.js';

const connection = redisOptionsFromUrl(TEST_REDIS_URL);

/** Keys under `prefix`, by SCAN (a test's own, never anyone else's). */
async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

describe('RedisRateLimiter on Redis', () => {
  let admin: Redis;
  before(async function () {
    this.timeout(10_000);
    // These specs use Redis for real and never skip: a green run means they ran.
    await assertRedisReachable(connection).catch((e: Error) => {
      throw new Error(`${e.message}: start Redis (npm test runs scripts/ensure-services.mjs) or set BLOCKYARD_TEST_REDIS_URL`);
    });
    admin = new Redis(connection);
  });
  after(() => admin?.disconnect());

  rateLimiterContract('redis', async () => {
    const prefix = `blockyard-test:rate-limit:${testQueueName()}:`;
    const limiter = new RedisRateLimiter({ connection, prefix });
    return {
      limiter,
      async close() {
        await limiter.close();
        const keys = await keysUnder(admin, prefix);
        if (keys.length) await admin.del(...keys);
      },
    };
  });

  describe('consume', function () {
    this.timeout(20_000);
    let prefix: string;
    const limiters: RedisRateLimiter[] = [];
    beforeEach(() => {
      prefix = `blockyard-test:rate-limit:${testQueueName()}:`;
    });
    afterEach(async () => {
      await Promise.all(limiters.splice(0).map((l) => l.close()));
      const keys = await keysUnder(admin, prefix);
      if (keys.length) await admin.del(...keys);
    });
    const open = () => {
      const limiter = new RedisRateLimiter({ connection, prefix });
      limiters.push(limiter);
      return limiter;
    };

    it('shares one budget between processes on the same Redis and prefix, exactly even when they race', async () => {
      const processes = [open(), open(), open()];
      const rules = [{ limit: 10, windowMs: 60_000 }];
      const now = Date.now();
      const decisions = await Promise.all(Array.from({ length: 60 }, (_, i) => processes[i % 3]!.consume('shared', rules, now)));
      expect(decisions.filter((d) => d.allowed)).to.have.length(10);
    });

    it('keeps a key’s counters under the prefix, expiring a second after their window ends', async () => {
      const limiter = open();
      await limiter.consume('client:a', [{ limit: 5, windowMs: 60_000 }, { limit: 50, windowMs: 3_600_000 }], Date.now());
      const keys = (await keysUnder(admin, prefix)).sort();
      expect(keys).to.deep.equal([`${prefix}{client:a}:3600000`, `${prefix}{client:a}:60000`]);
      const ttls = await Promise.all(keys.map((k) => admin.pttl(k)));
      expect(ttls[0]).to.be.within(3_590_000, 3_601_000);
      expect(ttls[1]).to.be.within(50_000, 61_000);
    });

    it('fails the consume, not the process, when Redis does not answer', async () => {
      const limiter = new RedisRateLimiter({ connection: { ...connection, port: 1, retryStrategy: () => null }, prefix, commandTimeoutMs: 500 });
      limiters.push(limiter);
      let error: unknown;
      try {
        await limiter.consume('k', [{ limit: 1, windowMs: 1000 }], Date.now());
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(Error);
    });
  });
});
