import { expect } from 'chai';
import type { DeadJob, ExecutionQueue, LeasedJob } from '../execution/execution-queue.port.js';

export interface QueueFixture {
  queue: ExecutionQueue;
  /** Closes the queue and any peer, and removes what the queue left behind. */
  close(): Promise<void>;
  /**
   * Another handle on the same queue, as another process would open it (same options). Only
   * for queues shared between processes: see `QueueContractOptions.crossProcess`.
   */
  openPeer?(): Promise<ExecutionQueue>;
}

export interface QueueContractOptions {
  /**
   * The queue is shared between processes (`durable`, `openPeer` given): also runs the
   * cross-process part of the contract.
   */
  crossProcess?: boolean;
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
export function queueContract(name: string, open: (options: QueueFixtureOptions) => Promise<QueueFixture>, contractOptions: QueueContractOptions = {}): void {
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

      it('does not let a lost lease fail the job away from its new holder', async () => {
        await openWith({ backoffMs: 50 });
        await queue.enqueue({ executionId: 'y' });
        const stale = await queue.lease({ visibilityTimeoutMs: 150, waitMs: 1000 });
        const fresh = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 5000 });
        expect(fresh?.attempt).to.equal(2);
        expect(await queue.fail(stale!, 'too late')).to.equal('retrying');
        await queue.ack(fresh!);
        // neither a retry nor a second copy of the job comes back
        expect(await queue.lease({ visibilityTimeoutMs: VT, waitMs: 400 })).to.equal(null);
      });

      it('answers false when extending a lease already acked', async () => {
        await openWith();
        await queue.enqueue({ executionId: 'done' });
        const lease = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 1000 });
        await queue.ack(lease!);
        expect(await queue.extend(lease!, VT)).to.equal(false);
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
        expect(dead[0]!.attempts).to.equal(1);
        expect(await queue.lease({ visibilityTimeoutMs: VT, waitMs: 300 })).to.equal(null);
      });

      it('counts lost leases and failures together against maxAttempts', async () => {
        await openWith({ maxAttempts: 2, backoffMs: 50 });
        const dead: DeadJob[] = [];
        queue.onDead((d) => dead.push(d));
        await queue.enqueue({ executionId: 'mixed' });
        await queue.lease({ visibilityTimeoutMs: 150, waitMs: 1000 }); // lost
        const second = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 5000 });
        expect(second?.attempt).to.equal(2);
        expect(await queue.fail(second!, 'second try failed')).to.equal('dead');
        for (let i = 0; i < 20 && dead.length === 0; i++) await sleep(50);
        expect(dead.map((d) => [d.job.executionId, d.attempts])).to.deep.equal([['mixed', 2]]);
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

      it('still takes the ack of a job leased before close', async () => {
        await openWith();
        await queue.enqueue({ executionId: 'in-flight' });
        const lease = await queue.lease({ visibilityTimeoutMs: VT, waitMs: 1000 });
        await queue.close();
        await queue.ack(lease!);
        // nothing was lost: the job is not handed out again to a handle opened later
        if (fixture.openPeer) {
          const peer = await fixture.openPeer();
          expect(await peer.lease({ visibilityTimeoutMs: VT, waitMs: 300 })).to.equal(null);
        }
      });
    });

    if (contractOptions.crossProcess) crossProcessContract(() => fixture, openWith);
  });
}

/** Two handles on one queue, as two processes: they share the jobs, the leases and the dead. */
function crossProcessContract(current: () => QueueFixture, openWith: (options?: Partial<QueueFixtureOptions>) => Promise<void>): void {
  describe('across processes', () => {
    const peerOf = async () => {
      const fixture = current();
      if (!fixture.openPeer) throw new Error('a crossProcess queue fixture must give openPeer()');
      return fixture.openPeer();
    };

    it('is durable', async () => {
      await openWith();
      expect(current().queue.durable).to.equal(true);
    });

    it('hands a job enqueued by one process to a consumer in another', async () => {
      await openWith();
      const peer = await peerOf();
      const pending = peer.lease({ visibilityTimeoutMs: VT, waitMs: 5000 });
      await current().queue.enqueue({ executionId: 'shared' });
      const lease = await pending;
      expect(lease?.job.executionId).to.equal('shared');
      expect(lease?.attempt).to.equal(1);
      await peer.ack(lease!);
      expect(await current().queue.lease({ visibilityTimeoutMs: VT, waitMs: 200 })).to.equal(null);
    });

    it('never hands one job to consumers in two processes at once', async () => {
      await openWith();
      const peer = await peerOf();
      const n = 40;
      for (let i = 0; i < n; i++) await current().queue.enqueue({ executionId: `p${i}` });
      const leases = await Promise.all(Array.from({ length: n + 6 }, (_, i) => (i % 2 ? peer : current().queue).lease({ visibilityTimeoutMs: VT, waitMs: 500 })));
      const taken = leases.filter((l): l is LeasedJob => l !== null);
      expect(taken.map((l) => l.job.executionId).sort()).to.deep.equal(Array.from({ length: n }, (_, i) => `p${i}`).sort());
    });

    it('gives the job of a process that stopped (lease run out) to another, with the next attempt', async () => {
      await openWith();
      const crashed = await peerOf();
      await current().queue.enqueue({ executionId: 'orphan' });
      const first = await crashed.lease({ visibilityTimeoutMs: 200, waitMs: 1000 });
      expect(first?.attempt).to.equal(1);
      await crashed.close(); // it never acks nor extends again
      const second = await current().queue.lease({ visibilityTimeoutMs: VT, waitMs: 5000 });
      expect(second?.job.executionId).to.equal('orphan');
      expect(second?.attempt).to.equal(2);
      await current().queue.ack(second!);
    });

    it('declares dead, in a live process and only once, a job whose last holder stopped', async () => {
      await openWith({ maxAttempts: 2, backoffMs: 50 });
      const here: DeadJob[] = [];
      current().queue.onDead((d) => here.push(d));
      const crashed = await peerOf();
      const there: DeadJob[] = [];
      crashed.onDead((d) => there.push(d));
      await current().queue.enqueue({ executionId: 'crashes-its-worker' });
      const first = await crashed.lease({ visibilityTimeoutMs: 150, waitMs: 1000 });
      expect(await crashed.fail(first!, 'worker error')).to.equal('retrying');
      const second = await crashed.lease({ visibilityTimeoutMs: 150, waitMs: 5000 });
      expect(second?.attempt).to.equal(2);
      await crashed.close(); // the process died holding the last attempt
      for (let i = 0; i < 100 && here.length === 0; i++) await sleep(50);
      expect(here.map((d) => [d.job.executionId, d.attempts])).to.deep.equal([['crashes-its-worker', 2]]);
      expect(there).to.deep.equal([]);
      expect(await current().queue.lease({ visibilityTimeoutMs: VT, waitMs: 300 })).to.equal(null);
    });

    it('declares a dead job once although several live processes watch', async () => {
      await openWith({ maxAttempts: 1 });
      const peers = [current().queue, await peerOf(), await peerOf()];
      const dead: string[] = [];
      peers.forEach((q, i) => q.onDead((d) => dead.push(`${i}:${d.job.executionId}`)));
      await current().queue.enqueue({ executionId: 'watched' });
      const crashed = await peerOf();
      await crashed.lease({ visibilityTimeoutMs: 150, waitMs: 1000 });
      await crashed.close();
      for (let i = 0; i < 100 && dead.length === 0; i++) await sleep(50);
      // let any duplicate arrive before counting
      await sleep(500);
      expect(dead).to.have.length(1);
      expect(dead[0]).to.match(/:watched$/);
    });
  });
}
