import { expect } from 'chai';
import { newExecution } from '@blockyard/core';
import { queueContract } from '@blockyard/core/testing';
import { InMemoryExecutionEvents } from './in-memory-execution-events.js';
import { InMemoryExecutionQueue } from './in-memory-execution-queue.js';

queueContract('memory', async ({ maxAttempts, backoffMs }) => {
  const queue = new InMemoryExecutionQueue({ maxAttempts, backoffMs: () => backoffMs, sweepIntervalMs: 20 });
  return { queue, close: () => queue.close() };
});

describe('InMemoryExecutionQueue', () => {
  it('is not durable, so the server recovers executions from storage', () => {
    expect(new InMemoryExecutionQueue().durable).to.equal(false);
  });
});

describe('InMemoryExecutionEvents', () => {
  describe('publish', () => {
    it('reaches the listeners of that execution only', () => {
      const events = new InMemoryExecutionEvents();
      const seen: string[] = [];
      events.subscribe('a', (e) => seen.push(`a:${e.type}`));
      events.subscribe('b', (e) => seen.push(`b:${e.type}`));
      events.publish({ type: 'cancel_requested', executionId: 'a' });
      expect(seen).to.deep.equal(['a:cancel_requested']);
    });

    it('goes on to the other listeners when one throws', () => {
      const events = new InMemoryExecutionEvents();
      let reached = false;
      events.subscribe('a', () => {
        throw new Error('bad listener');
      });
      events.subscribe('a', () => (reached = true));
      events.publish({ type: 'finished', executionId: 'a', execution: newExecution({ id: 'a', userId: 'u', blockId: 'b.c', inputs: {}, now: new Date() }) });
      expect(reached).to.equal(true);
    });
  });

  describe('subscribe', () => {
    it('returns an unsubscribe that stops delivery and frees the entry', () => {
      const events = new InMemoryExecutionEvents();
      let count = 0;
      const off = events.subscribe('a', () => count++);
      off();
      events.publish({ type: 'finished', executionId: 'a', execution: newExecution({ id: 'a', userId: 'u', blockId: 'b.c', inputs: {}, now: new Date() }) });
      expect(count).to.equal(0);
      expect(events.subscribedExecutions).to.equal(0);
    });
  });
});
