import { expect } from 'chai';
import type { DeadJob, ExecutionQueue, LeasedJob } from '../execution/execution-queue.port.js';

export interface QueueFixture {
  queue: ExecutionQueue;
  close(): Promise<void>;
}

export interface QueueFixtureOptions {
  /** Deliveries before a job is dead. */
  maxAttempts: number;
  /** Fixed retry delay after fail(). */
  backoffMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const VT = 10_000;

/**
 * The behaviour every ExecutionQueue adapter must have. `open` gives a fresh, empty queue
 * configured with the options.
 */
export function queueContract(name: string, open: (options: QueueFixtureOptions) => Promise<QueueFixture>): void {
  describe(`ExecutionQueue contract: ${name}`, function () {
    this.timeout(20_000);
    let fixture: QueueFixture;
    let queue: ExecutionQueue;
    const openWith = async (options: Partial<QueueFixtureOptions> = {}) => {
      fixture = await open({ maxAttempts: 3, backoffMs: 100, ...options });
      queue = fixture.queue;
    };
    afterEach(async () => {
      await fixture?.close();
    });

    describe('enqueue and lease', () => {
      it('delivers an enqueued job once, with attempt 1', async () => {
        await openWith();
        await queue.enqueue({ executionId: 'e1' });
        const lease = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 1000 });
        expect(lease?.job).to.deep.equal({ executionId: 'e1' });
        expect(lease?.attempt).to.equal(1);
        await queue.ack(lease!);
        expect(await queue.lease({ visibilityTimeoutMs: VT, waitMs: 200 })).to.equal(null);
      });

      it('delivers jobs in the order they were enqueued', async () => {
        await openWith();
        for (const id of ['a', 'b', 'c']) await queue.enqueue({ executionId: id });
        const got: string[] = [];
        for (let i = 0; i < 3; i++) {
          const lease = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 1000 });
          got.push(lease!.job.executionId);
          await queue.ack(lease!);
        }
        expect(got).to.deep.equal(['a', 'b', 'c']);
      });

      it('answers null after waitMs when there is no job', async () => {
        await openWith();
        const started = Date.now();
        expect(await queue.lease({ visibilityTimeoutMs: VT, waitMs: 150 })).to.equal(null);
        expect(Date.now() - started).to.be.at.least(100);
      });

      it('wakes a waiting lease when a job arrives', async () => {
        await openWith();
        const pending = queue.lease({ visibilityTimeoutMs: VT, waitMs: 5000 });
        await sleep(50);
        await queue.enqueue({ executionId: 'late' });
        const lease = await pending;
        expect(lease?.job.executionId).to.equal('late');
        await queue.ack(lease!);
      });

      it('never hands one job to two concurrent consumers', async () => {
        await openWith();
        const n = 50;
        for (let i = 0; i < n; i++) await queue.enqueue({ executionId: `j${i}` });
        const leases = await Promise.all(Array.from({ length: n + 5 }, () => queue.lease({ visibilityTimeoutMs: VT, waitMs: 500 })));
        const ids = leases.filter((l): l is LeasedJob => l !== null).map((l) => l.job.executionId);
        expect(ids).to.have.length(n);
        expect(new Set(ids).size).to.equal(n);
        await Promise.all(leases.filter((l): l is LeasedJob => l !== null).map((l) => queue.ack(l)));
      });

      it('holds a delayed job back until its delay has passed', async () => {
        await openWith();
        await queue.enqueue({ executionId: 'later' }, { delayMs: 400 });
        expect(await queue.lease({ visibilityTimeoutMs: VT, waitMs: 100 })).to.equal(null);
        const lease = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 3000 });
        expect(lease?.job.executionId).to.equal('later');
        await queue.ack(lease!);
      });
    });

    describe('visibility timeout', () => {
      it('delivers a job again when its lease runs out, with the next attempt number', async () => {
        await openWith();
        await queue.enqueue({ executionId: 'lost' });
        const first = await queue.lease({ visibilityTimeoutMs: 200, waitMs: 1000 });
        expect(first?.attempt).to.equal(1);
        const second = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 5000 });
        expect(second?.job.executionId).to.equal('lost');
        expect(second?.attempt).to.equal(2);
        await queue.ack(second!);
      });

      it('keeps an extended lease invisible', async () => {
        await openWith();
        await queue.enqueue({ executionId: 'long' });
        const lease = await queue.lease({ visibilityTimeoutMs: 300, waitMs: 1000 });
        for (let i = 0; i < 4; i++) {
          await sleep(150);
          expect(await queue.extend(lease!, 300)).to.equal(true);
        }
        expect(await queue.lease({ visibilityTimeoutMs: VT, waitMs: 100 })).to.equal(null);
        await queue.ack(lease!);
      });

      it('does not let a lost lease ack the job away from its new holder', async () => {
        await openWith();
        await queue.enqueue({ executionId: 'x' });
        const stale = await queue.lease({ visibilityTimeoutMs: 150, waitMs: 1000 });
        const fresh = await queue.lease({ visibilityTimeoutMs: 300, waitMs: 5000 });
        expect(fresh?.attempt).to.equal(2);
        await queue.ack(stale!);
        expect(await queue.extend(stale!, VT)).to.equal(false);
        // fresh was not acked: when its lease runs out the job comes back
        const third = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 5000 });
        expect(third?.job.executionId).to.equal('x');
        expect(third?.attempt).to.equal(3);
        await queue.ack(third!);
      });
    });

    describe('fail, retry and dead jobs', () => {
      it('retries a failed job after the backoff with the next attempt number', async () => {
        await openWith({ backoffMs: 200 });
        await queue.enqueue({ executionId: 'flaky' });
        const first = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 1000 });
        const failedAt = Date.now();
        expect(await queue.fail(first!, 'boom')).to.equal('retrying');
        const second = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 5000 });
        expect(Date.now() - failedAt).to.be.at.least(150);
        expect(second?.attempt).to.equal(2);
        await queue.ack(second!);
      });

      it('declares a job dead after maxAttempts failures and never delivers it again', async () => {
        await openWith({ maxAttempts: 2, backoffMs: 50 });
        const dead: DeadJob[] = [];
        queue.onDead((d) => dead.push(d));
        await queue.enqueue({ executionId: 'doomed' });
        const first = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 1000 });
        expect(await queue.fail(first!, 'one')).to.equal('retrying');
        const second = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 5000 });
        expect(await queue.fail(second!, 'two')).to.equal('dead');
        for (let i = 0; i < 20 && dead.length === 0; i++) await sleep(50);
        expect(dead).to.have.length(1);
        expect(dead[0]!.job.executionId).to.equal('doomed');
        expect(dead[0]!.attempts).to.equal(2);
        expect(dead[0]!.reason).to.contain('two');
        expect(await queue.lease({ visibilityTimeoutMs: VT, waitMs: 300 })).to.equal(null);
      });

      it('declares a job dead when its lease runs out on the last attempt', async () => {
        await openWith({ maxAttempts: 1 });
        const dead: DeadJob[] = [];
        queue.onDead((d) => dead.push(d));
        await queue.enqueue({ executionId: 'abandoned' });
        await queue.lease({ visibilityTimeoutMs: 150, waitMs: 1000 });
        for (let i = 0; i < 100 && dead.length === 0; i++) await sleep(50);
        expect(dead.map((d) => d.job.executionId)).to.deep.equal(['abandoned']);
      });
    });

    describe('close', () => {
      it('resolves a pending lease with null', async () => {
        await openWith();
        const pending = queue.lease({ visibilityTimeoutMs: VT, waitMs: 10_000 });
        await sleep(50);
        expect(queue.closed).to.equal(false);
        await queue.close();
        expect(await pending).to.equal(null);
        expect(queue.closed).to.equal(true);
        expect(await queue.lease({ visibilityTimeoutMs: VT, waitMs: 1000 })).to.equal(null);
      });
    });
  });
}
