import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { ExecutionEvent, ExecutionQueue } from '@blockyard/core';
import { executionEventsContract, queueContract } from '@blockyard/core/testing';
import { BullMqExecutionQueue } from './bullmq-execution-queue.js';
import { decodeEvent, encodeEvent } from './execution-codec.js';
import { bullmqQueueModule } from './queue-bullmq.module.js';
import { assertRedisReachable, redisOptionsFromUrl } from './redis-connection.js';
import { RedisExecutionEvents } from './redis-execution-events.js';
import { TEST_REDIS_URL, testQueueName } from './redis-test-queue.js';

const connection = redisOptionsFromUrl(TEST_REDIS_URL);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keys in Redis under a prefix: what a test left behind. */
async function keysUnder(pattern: string): Promise<string[]> {
  const redis = new Redis(connection);
  try {
    return await redis.keys(pattern);
  } finally {
    redis.disconnect();
  }
}

/** Removes what events under `namespace` left in Redis (remembered cancels). */
async function deleteKeysUnder(namespace: string): Promise<void> {
  const keys = await keysUnder(`${namespace}:*`);
  if (!keys.length) return;
  const redis = new Redis(connection);
  try {
    await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

describe('queue-bullmq on Redis', () => {
  before(async function () {
    this.timeout(10_000);
    // These specs use Redis for real and never skip: a green run means they ran.
    await assertRedisReachable(connection).catch((e: Error) => {
      throw new Error(`${e.message}: start Redis (npm test runs scripts/ensure-services.mjs) or set BLOCKYARD_TEST_REDIS_URL`);
    });
  });

  queueContract(
    'bullmq',
    async ({ maxAttempts, backoffMs }) => {
      const queueName = testQueueName();
      const open = () => new BullMqExecutionQueue({ connection, queueName, maxAttempts, backoffMs: () => backoffMs, stalledCheckIntervalMs: 50 });
      const queue = open();
      const peers: BullMqExecutionQueue[] = [];
      return {
        queue,
        async openPeer(): Promise<ExecutionQueue> {
          const peer = open();
          peers.push(peer);
          return peer;
        },
        async close() {
          for (const peer of peers) await peer.release();
          await queue.obliterate();
          await queue.release();
        },
      };
    },
    { crossProcess: true },
  );

  executionEventsContract(
    'redis',
    async () => {
      const namespace = `blockyard:${testQueueName()}`;
      const open = () => new RedisExecutionEvents({ connection, namespace });
      const events = open();
      const peers: RedisExecutionEvents[] = [];
      return {
        events,
        async openPeer() {
          const peer = open();
          peers.push(peer);
          return peer;
        },
        async close() {
          await Promise.all([events, ...peers].map((e) => e.close()));
          await deleteKeysUnder(namespace);
        },
      };
    },
    { crossProcess: true },
  );

  describe('BullMqExecutionQueue', function () {
    this.timeout(20_000);

    it('keeps jobs across a restart: a queue opened later under the same name gets them', async () => {
      const queueName = testQueueName();
      const first = new BullMqExecutionQueue({ connection, queueName });
      await first.enqueue({ executionId: 'survives' });
      await first.release();
      const second = new BullMqExecutionQueue({ connection, queueName });
      try {
        const lease = await second.lease({ visibilityTimeoutMs: 10_000, waitMs: 2000 });
        expect(lease?.job).to.deep.equal({ executionId: 'survives' });
        await second.ack(lease!);
      } finally {
        await second.obliterate();
        await second.release();
      }
    });

    it('carries every field of the job but the in-process snapshot', async () => {
      const queueName = testQueueName();
      const queue = new BullMqExecutionQueue({ connection, queueName });
      try {
        await queue.enqueue({ executionId: 'e1', nodeRunId: 'n1', token: 't1', snapshot: { id: 'e1' } as never });
        const lease = await queue.lease({ visibilityTimeoutMs: 10_000, waitMs: 2000 });
        expect(lease?.job).to.deep.equal({ executionId: 'e1', nodeRunId: 'n1', token: 't1' });
        await queue.ack(lease!);
      } finally {
        await queue.obliterate();
        await queue.release();
      }
    });

    it('puts a job fetched for no one back on close without counting the delivery', async () => {
      const queueName = testQueueName();
      const queue = new BullMqExecutionQueue({ connection, queueName });
      const next = new BullMqExecutionQueue({ connection, queueName });
      try {
        // A lease that gives up at once leaves the fetch loop waiting in Redis; the job it then
        // fetches has no taker, and close() must give it back.
        expect(await queue.lease({ visibilityTimeoutMs: 10_000, waitMs: 300 })).to.equal(null);
        await queue.enqueue({ executionId: 'unclaimed' });
        await sleep(200);
        await queue.close();
        const lease = await next.lease({ visibilityTimeoutMs: 10_000, waitMs: 3000 });
        expect(lease?.job.executionId).to.equal('unclaimed');
        expect(lease?.attempt).to.equal(1);
        await next.ack(lease!);
      } finally {
        await next.obliterate();
        await Promise.all([queue.release(), next.release()]);
      }
    });

    it('takes the next job with an ack, and gives it back uncounted if the queue closes before leasing it', async () => {
      const queueName = testQueueName();
      const queue = new BullMqExecutionQueue({ connection, queueName });
      const peer = new BullMqExecutionQueue({ connection, queueName });
      try {
        await queue.enqueue({ executionId: 'a' });
        await queue.enqueue({ executionId: 'b' });
        const a = await queue.lease({ visibilityTimeoutMs: 10_000, waitMs: 2000 });
        await queue.ack(a!); // b comes back with it, held for this queue's next lease
        expect(await peer.lease({ visibilityTimeoutMs: 10_000, waitMs: 200 })).to.equal(null);
        await queue.close();
        const b = await peer.lease({ visibilityTimeoutMs: 10_000, waitMs: 3000 });
        expect(b?.job.executionId).to.equal('b');
        expect(b?.attempt).to.equal(1);
        await peer.ack(b!);
      } finally {
        await queue.release();
        await peer.obliterate();
        await peer.release();
      }
    });

    it('removes every key of the queue on obliterate', async () => {
      const queueName = testQueueName();
      const queue = new BullMqExecutionQueue({ connection, queueName, maxAttempts: 1 });
      queue.onDead(() => undefined);
      await queue.enqueue({ executionId: 'a' });
      const lease = await queue.lease({ visibilityTimeoutMs: 10_000, waitMs: 2000 });
      await queue.fail(lease!, 'gone');
      await queue.enqueue({ executionId: 'b' }, { delayMs: 60_000 });
      expect(await keysUnder(`blockyard:${queueName}:*`)).not.to.deep.equal([]);
      await queue.obliterate();
      await queue.release();
      expect(await keysUnder(`blockyard:${queueName}:*`)).to.deep.equal([]);
    });
  });

  describe('RedisExecutionEvents', function () {
    this.timeout(20_000);
    let opened: Array<{ events: RedisExecutionEvents; namespace: string }> = [];
    const open = (namespace: string) => {
      const events = new RedisExecutionEvents({ connection, namespace });
      opened.push({ events, namespace });
      return events;
    };
    afterEach(async () => {
      await Promise.all(opened.map((o) => o.events.close()));
      for (const namespace of new Set(opened.map((o) => o.namespace))) await deleteKeysUnder(namespace);
      opened = [];
    });

    it('tells a worker that subscribes just after a cancel was published in another process', async () => {
      const namespace = `blockyard:${testQueueName()}`;
      const api = open(namespace);
      const worker = open(namespace);
      api.publish({ type: 'cancel_requested', executionId: 'late' });
      await sleep(100);
      const seen: ExecutionEvent[] = [];
      worker.subscribe('late', (e) => seen.push(e));
      for (let i = 0; i < 50 && !seen.length; i++) await sleep(50);
      expect(seen).to.deep.equal([{ type: 'cancel_requested', executionId: 'late' }]);
    });

    it('frees the execution’s entry when its last listener unsubscribes', () => {
      const events = open(`blockyard:${testQueueName()}`);
      const offA = events.subscribe('a', () => undefined);
      const offB = events.subscribe('a', () => undefined);
      expect(events.subscribedExecutions).to.equal(1);
      offA();
      expect(events.subscribedExecutions).to.equal(1);
      offB();
      expect(events.subscribedExecutions).to.equal(0);
    });

    it('ignores messages on its channels that are not events', async () => {
      const namespace = `blockyard:${testQueueName()}`;
      const events = open(namespace);
      const seen: ExecutionEvent[] = [];
      events.subscribe('x', (e) => seen.push(e));
      await sleep(100);
      const raw = new Redis(connection);
      try {
        await raw.publish(`${namespace}:events:x`, 'not json');
        await raw.publish(`${namespace}:events:x`, JSON.stringify({ o: 'elsewhere', e: { type: 'cancel_requested', executionId: 'y' } }));
        await raw.publish(`${namespace}:events:x`, encodeEvent('elsewhere', { type: 'cancel_requested', executionId: 'x' }));
      } finally {
        raw.disconnect();
      }
      for (let i = 0; i < 50 && !seen.length; i++) await sleep(50);
      await sleep(100);
      expect(seen).to.deep.equal([{ type: 'cancel_requested', executionId: 'x' }]);
    });
  });

  describe('execution event codec', () => {
    it('keeps dates as dates and date-like strings as strings, at any depth', () => {
      const execution = {
        id: 'e',
        createdAt: new Date('2026-01-01T00:00:00.000Z'),
        outputs: { when: ['2026-01-01T00:00:00.000Z'] },
        nodes: [{ startedAt: new Date('2026-01-01T00:00:01.000Z') }],
      };
      const decoded = decodeEvent(encodeEvent('me', { type: 'finished', executionId: 'e', execution } as never));
      expect(decoded?.origin).to.equal('me');
      expect(decoded?.event).to.deep.equal({ type: 'finished', executionId: 'e', execution });
    });

    it('answers null for what is not an event', () => {
      expect(decodeEvent('{')).to.equal(null);
      expect(decodeEvent('{"o":"x"}')).to.equal(null);
      expect(decodeEvent('{"o":"x","e":{"type":"finished"}}')).to.equal(null);
    });
  });

  describe('bullmqQueueModule', function () {
    this.timeout(20_000);

    it('binds a durable queue and Redis events, and close() lets the process exit', async () => {
      const module = bullmqQueueModule({ redisUrl: TEST_REDIS_URL, queueName: testQueueName() });
      await module.ready();
      expect(module.queue.durable).to.equal(true);
      expect(module.redis).to.equal(`${connection.host}:${connection.port}`);
      await module.queue.enqueue({ executionId: 'x' });
      await module.queue.obliterate();
      await module.close();
      await module.close(); // twice is harmless
      expect(module.queue.closed).to.equal(true);
    });

    it('says clearly, without the password, when Redis is unreachable', async () => {
      const module = bullmqQueueModule({ redisUrl: 'redis://:s3cret@127.0.0.1:1', queueName: testQueueName() });
      try {
        const error = await module.ready(1000).then(
          () => null,
          (e: Error) => e,
        );
        expect(error?.message).to.match(/^Redis at 127\.0\.0\.1:1 is unreachable/);
        expect(error?.message).not.to.contain('s3cret');
      } finally {
        await module.close();
      }
    });

    it('rejects what is not a redis:// URL', () => {
      expect(() => bullmqQueueModule({ redisUrl: 'http://127.0.0.1:6379' })).to.throw(/redis:\/\//);
      expect(() => bullmqQueueModule({ redisUrl: 'redis://127.0.0.1:6379/zero' })).to.throw(/database number/);
    });
  });
});
