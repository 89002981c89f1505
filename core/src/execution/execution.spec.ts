import { expect } from 'chai';
import { DomainError } from '../errors/domain.errors.js';
import { canTransition, finish, newExecution, start } from './execution.js';

const now = new Date('2026-01-01T00:00:00Z');
const queued = () => newExecution({ id: 'e1', userId: 'u1', blockId: 'example.echo', inputs: { text: 'hi' }, now });

describe('Execution', () => {
  describe('canTransition', () => {
    it('allows exactly queued -> running|cancelled and running -> completed|failed|cancelled', () => {
      const statuses = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
      const allowed = statuses.flatMap((from) => statuses.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`));
      expect(allowed).to.deep.equal(['queued->running', 'queued->cancelled', 'running->completed', 'running->failed', 'running->cancelled']);
    });
  });

  describe('start', () => {
    it('moves a queued execution to running, counting the attempt', () => {
      const running = start(queued(), now);
      expect(running).to.include({ status: 'running', attempts: 1 });
      expect(running.startedAt).to.deep.equal(now);
    });

    it('restarts a running execution (its worker died) as a new attempt', () => {
      const again = start(start(queued(), now), new Date(now.getTime() + 1000));
      expect(again).to.include({ status: 'running', attempts: 2 });
      expect(again.startedAt).to.deep.equal(now);
    });

    it('refuses to start a finished execution with a conflict', () => {
      const done = finish(start(queued(), now), 'completed', {}, now);
      expect(() => start(done, now)).to.throw().that.satisfies((e: unknown) => DomainError.is(e, 'conflict'));
    });
  });

  describe('finish', () => {
    it('records outputs, error, cost and completion time', () => {
      const done = finish(start(queued(), now), 'failed', { outputs: { a: [1] }, error: 'bad', costUsd: 0.2 }, now);
      expect(done).to.include({ status: 'failed', error: 'bad', costUsd: 0.2 });
      expect(done.outputs).to.deep.equal({ a: [1] });
      expect(done.completedAt).to.deep.equal(now);
    });

    it('never silently overwrites a finished execution', () => {
      const cancelled = finish(queued(), 'cancelled', {}, now);
      expect(() => finish(cancelled, 'completed', {}, now)).to.throw(/is cancelled and cannot become completed/);
    });

    it('refuses to complete an execution that never ran', () => {
      expect(() => finish(queued(), 'completed', {}, now)).to.throw(/cannot become completed/);
    });
  });
});
