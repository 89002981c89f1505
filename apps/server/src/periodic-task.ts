import type { Logger } from '@blockyard/core';

/** What a periodic task is scheduled with: calls `tick` every `intervalMs` until cancelled. */
export type TickScheduler = (tick: () => void, intervalMs: number) => { cancel(): void };

/** setInterval, not keeping the process alive for itself. */
export const intervalScheduler: TickScheduler = (tick, intervalMs) => {
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return { cancel: () => clearInterval(timer) };
};

export interface PeriodicTask {
  /** Runs no more; resolves once a run in flight has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `task` once now and then every `intervalMs`, in the background of this process. A run
 * still going when the next is due makes that one skip (never two at once); a failed run is
 * logged as a warning, naming the task, and the next one tries again.
 */
export function startPeriodicTask(name: string, task: () => Promise<unknown>, intervalMs: number, logger: Logger, schedule: TickScheduler = intervalScheduler): PeriodicTask {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = task()
      .then(
        () => undefined,
        (e: unknown) => logger.warn(`periodic task failed: ${name}; it runs again later`, { task: name, error: e instanceof Error ? e.message : String(e) }),
      )
      .finally(() => {
        running = null;
      });
  };
  const scheduled = schedule(tick, intervalMs);
  tick();
  return {
    async stop() {
      stopped = true;
      scheduled.cancel();
      await running;
    },
  };
}
