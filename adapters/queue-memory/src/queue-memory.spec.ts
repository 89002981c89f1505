import { expect } from 'chai';
import { executionEventsContract, finishedExecutionFixture, queueContract } from '@blockyard/core/testing';
import { InMemoryExecutionEvents } from './in-memory-execution-events.js';
import { InMemoryExecutionQueue } from './in-memory-execution-queue.js';

queueContract('memory', async ({ maxAttempts, backoffMs }) => {
  const queue = new InMemoryExecutionQueue({ maxAttempts, backoffMs: () => backoffMs, sweepIntervalMs: 20 });
  return { queue, close: () => queue.close() };
});

executionEventsContract('memory', async () => ({ events: new InMemoryExecutionEvents(), close: async () => {} }));

describe('InMemoryExecutionQueue', () => {
  it('is not durable, so the server recovers executions from storage', () => {
    expect(new InMemoryExecutionQueue().durable).to.equal(false);
  });
});

describe('InMemoryExecutionEvents', () => {
  describe('subscribe', () => {
    it('frees the execution’s entry when its last listener unsubscribes', () => {
      const events = new InMemoryExecutionEvents();
      let count = 0;
      const off = events.subscribe('a', () => count++);
      off();
      events.publish({ type: 'finished', executionId: 'a', execution: finishedExecutionFixture('a') });
      expect(count).to.equal(0);
      expect(events.subscribedExecutions).to.equal(0);
    });
  });
});
