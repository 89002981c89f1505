import { expect } from 'chai';
import type { ExecutionEvent, ExecutionEvents } from '../execution/execution-events.port.js';
import { finish, newExecution, start, type Execution } from '../execution/execution.js';

export interface ExecutionEventsFixture {
  events: ExecutionEvents;
  /** Releases the events and any peer. */
  close(): Promise<void>;
  /**
   * Another handle on the same event bus, as another process would open it. Only for events
   * that cross processes: see `ExecutionEventsContractOptions.crossProcess`.
   */
  openPeer?(): Promise<ExecutionEvents>;
}

export interface ExecutionEventsContractOptions {
  /** Events reach subscribers in other processes (`openPeer` given): also runs that part of the contract. */
  crossProcess?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A finished execution with every field set, dates included, to see that events carry it whole. */
export function finishedExecutionFixture(id: string): Execution {
  const created = newExecution({ id, userId: 'user-1', blockId: 'example.echo', inputs: { text: 'hi', nested: { n: 1 } }, now: new Date('2026-01-02T03:04:05.678Z') });
  const running = start(created, new Date('2026-01-02T03:04:06.000Z'));
  return finish(running, 'completed', { outputs: { text: ['hi', 'again'] }, costUsd: 0.25, error: null }, new Date('2026-01-02T03:04:07.250Z'));
}

/** Polls until `check` holds (up to 5 s), for events that cross processes. */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(50);
}

/**
 * The behaviour every ExecutionEvents adapter must have. `open` gives a fresh bus with no
 * subscribers.
 */
export function executionEventsContract(name: string, open: () => Promise<ExecutionEventsFixture>, options: ExecutionEventsContractOptions = {}): void {
  describe(`ExecutionEvents contract: ${name}`, function () {
    this.timeout(20_000);
    let fixture: ExecutionEventsFixture;
    let events: ExecutionEvents;
    beforeEach(async () => {
      fixture = await open();
      events = fixture.events;
    });
    afterEach(async () => {
      await fixture?.close();
    });

    describe('publish', () => {
      it('reaches a subscriber in the same process before it returns', () => {
        const seen: ExecutionEvent[] = [];
        events.subscribe('a', (e) => seen.push(e));
        events.publish({ type: 'cancel_requested', executionId: 'a' });
        expect(seen).to.deep.equal([{ type: 'cancel_requested', executionId: 'a' }]);
      });

      it('reaches the listeners of that execution only', async () => {
        const seen: string[] = [];
        events.subscribe('a', (e) => seen.push(`a:${e.type}`));
        events.subscribe('b', (e) => seen.push(`b:${e.type}`));
        events.publish({ type: 'cancel_requested', executionId: 'a' });
        await sleep(100);
        expect(seen).to.deep.equal(['a:cancel_requested']);
      });

      it('reaches every listener of the execution, in the order of publishing', () => {
        const seen: string[] = [];
        events.subscribe('a', (e) => seen.push(`1:${e.type}`));
        events.subscribe('a', (e) => seen.push(`2:${e.type}`));
        events.publish({ type: 'cancel_requested', executionId: 'a' });
        events.publish({ type: 'finished', executionId: 'a', execution: finishedExecutionFixture('a') });
        expect(seen).to.deep.equal(['1:cancel_requested', '2:cancel_requested', '1:finished', '2:finished']);
      });

      it('goes on to the other listeners when one throws', () => {
        let reached = false;
        events.subscribe('a', () => {
          throw new Error('bad listener');
        });
        events.subscribe('a', () => (reached = true));
        events.publish({ type: 'finished', executionId: 'a', execution: finishedExecutionFixture('a') });
        expect(reached).to.equal(true);
      });

      it('does nothing, and does not throw, when nobody listens', () => {
        expect(() => events.publish({ type: 'finished', executionId: 'nobody', execution: finishedExecutionFixture('nobody') })).not.to.throw();
      });
    });

    describe('subscribe', () => {
      it('returns an unsubscribe that stops delivery to that listener only', async () => {
        const seen: string[] = [];
        const off = events.subscribe('a', () => seen.push('gone'));
        events.subscribe('a', () => seen.push('kept'));
        off();
        off(); // twice is harmless
        events.publish({ type: 'cancel_requested', executionId: 'a' });
        await sleep(100);
        expect(seen).to.deep.equal(['kept']);
      });
    });

    if (options.crossProcess) {
      describe('across processes', () => {
        const peerOf = async () => {
          if (!fixture.openPeer) throw new Error('a crossProcess events fixture must give openPeer()');
          return fixture.openPeer();
        };

        it('delivers a cancel published in one process to the subscriber in another', async () => {
          const peer = await peerOf();
          const seen: ExecutionEvent[] = [];
          peer.subscribe('x', (e) => seen.push(e));
          await sleep(100); // let the subscription reach the bus
          events.publish({ type: 'cancel_requested', executionId: 'x' });
          await eventually(() => seen.length > 0);
          expect(seen).to.deep.equal([{ type: 'cancel_requested', executionId: 'x' }]);
        });

        it('carries the finished execution whole, dates as dates', async () => {
          const peer = await peerOf();
          const seen: ExecutionEvent[] = [];
          peer.subscribe('y', (e) => seen.push(e));
          await sleep(100);
          const execution = finishedExecutionFixture('y');
          events.publish({ type: 'finished', executionId: 'y', execution });
          await eventually(() => seen.length > 0);
          expect(seen).to.have.length(1);
          const got = seen[0]!;
          expect(got.type).to.equal('finished');
          if (got.type !== 'finished') return;
          expect(got.execution).to.deep.equal(execution);
          expect(got.execution.completedAt).to.be.instanceOf(Date);
        });

        it('keeps the other executions’ events away from a subscriber', async () => {
          const peer = await peerOf();
          const seen: string[] = [];
          peer.subscribe('mine', (e) => seen.push(`${e.executionId}:${e.type}`));
          await sleep(100);
          events.publish({ type: 'cancel_requested', executionId: 'theirs' });
          events.publish({ type: 'cancel_requested', executionId: 'mine' });
          await eventually(() => seen.length > 0);
          await sleep(100);
          expect(seen).to.deep.equal(['mine:cancel_requested']);
        });

        it('delivers an event once to a subscriber in the publishing process, and once to one in another', async () => {
          const peer = await peerOf();
          const here: string[] = [];
          const there: string[] = [];
          events.subscribe('z', (e) => here.push(e.type));
          peer.subscribe('z', (e) => there.push(e.type));
          await sleep(100);
          events.publish({ type: 'cancel_requested', executionId: 'z' });
          events.publish({ type: 'finished', executionId: 'z', execution: finishedExecutionFixture('z') });
          await eventually(() => there.length >= 2);
          await sleep(200); // let any echo arrive before counting
          expect(here).to.deep.equal(['cancel_requested', 'finished']);
          expect(there).to.deep.equal(['cancel_requested', 'finished']);
        });

        it('stops delivering to another process after unsubscribe', async () => {
          const peer = await peerOf();
          const seen: string[] = [];
          const off = peer.subscribe('w', (e) => seen.push(e.type));
          await sleep(100);
          off();
          const sentinel: string[] = [];
          peer.subscribe('sentinel', (e) => sentinel.push(e.type));
          await sleep(100);
          events.publish({ type: 'cancel_requested', executionId: 'w' });
          events.publish({ type: 'cancel_requested', executionId: 'sentinel' });
          await eventually(() => sentinel.length > 0);
          expect(seen).to.deep.equal([]);
        });
      });
    }
  });
}
