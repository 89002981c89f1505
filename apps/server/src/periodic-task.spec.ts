import { expect } from 'chai';
import type { Logger } from '@blockyard/core';
import { startPeriodicTask, type TickScheduler } from './periodic-task.js';

/** A scheduler ticked by hand: `tick()` is what the interval would do when due. */
class SchedulerMock {
  tickFn: (() => void) | null = null;
  intervalMs = 0;
  cancelled = false;
  readonly schedule: TickScheduler = (tick, intervalMs) => {
    this.tickFn = tick;
    this.intervalMs = intervalMs;
    return { cancel: () => (this.cancelled = true) };
  };
  tick(): void {
    this.tickFn!();
  }
}

/** Keeps the warnings. */
class LoggerMock implements Logger {
  readonly warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  debug() {}
  info() {}
  warn(message: string, fields?: Record<string, unknown>) {
    this.warnings.push({ message, fields });
  }
  error() {}
  child() {
    return this;
  }
}

/** A task whose runs end when the test says so. */
class TaskMock {
  runs = 0;
  #finish: Array<(error?: Error) => void> = [];
  readonly run = () => {
    this.runs++;
    return new Promise<void>((resolve, reject) => this.#finish.push((error) => (error ? reject(error) : resolve())));
  };
  /** Ends the oldest run still going, failing it with `error` if given, and lets its ending settle. */
  async finish(error?: Error): Promise<void> {
    this.#finish.shift()!(error);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

describe('startPeriodicTask', () => {
  it('runs the task at once, then on every tick of its interval', async () => {
    const scheduler = new SchedulerMock();
    const task = new TaskMock();
    const periodic = startPeriodicTask('prune', task.run, 3_600_000, new LoggerMock(), scheduler.schedule);
    expect(scheduler.intervalMs).to.equal(3_600_000);
    expect(task.runs).to.equal(1);
    await task.finish();
    scheduler.tick();
    expect(task.runs).to.equal(2);
    await task.finish();
    scheduler.tick();
    expect(task.runs).to.equal(3);
    await task.finish();
    await periodic.stop();
  });

  it('skips a tick while a run is still going: never two runs at once', async () => {
    const scheduler = new SchedulerMock();
    const task = new TaskMock();
    const periodic = startPeriodicTask('prune', task.run, 1000, new LoggerMock(), scheduler.schedule);
    scheduler.tick();
    scheduler.tick();
    expect(task.runs).to.equal(1);
    await task.finish();
    scheduler.tick();
    expect(task.runs).to.equal(2);
    await task.finish();
    await periodic.stop();
  });

  it('logs a failed run naming the task, and runs again on the next tick', async () => {
    const scheduler = new SchedulerMock();
    const task = new TaskMock();
    const logger = new LoggerMock();
    const periodic = startPeriodicTask('prune webhook deliveries', task.run, 1000, logger, scheduler.schedule);
    await task.finish(new Error('database is locked'));
    expect(logger.warnings).to.deep.equal([{ message: 'periodic task failed: prune webhook deliveries; it runs again later', fields: { task: 'prune webhook deliveries', error: 'database is locked' } }]);
    scheduler.tick();
    expect(task.runs).to.equal(2);
    await task.finish();
    await periodic.stop();
  });

  it('stop cancels the interval, waits for the run in flight, and runs nothing more', async () => {
    const scheduler = new SchedulerMock();
    const task = new TaskMock();
    const periodic = startPeriodicTask('prune', task.run, 1000, new LoggerMock(), scheduler.schedule);
    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(scheduler.cancelled).to.equal(true);
    expect(stopped).to.equal(false);
    await task.finish();
    await stopping;
    expect(stopped).to.equal(true);
    scheduler.tick();
    expect(task.runs).to.equal(1);
  });
});
