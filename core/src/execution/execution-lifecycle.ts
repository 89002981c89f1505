import type { Logger } from '../system/logger.port.js';
import type { Execution } from './execution.js';

/**
 * Told when an execution starts running and when it finishes, right after storage recorded it
 * (outbound webhooks, audit, metrics plug in here). Bind any number under this symbol.
 * Called at most once per transition from the process that made it; a crash in between can
 * lose a call, so a listener that must never miss one also reconciles from storage.
 */
export interface ExecutionLifecycleListener {
  started?(execution: Execution): Promise<void>;
  finished?(execution: Execution): Promise<void>;
}
export const ExecutionLifecycleListener = Symbol.for('blockyard/ExecutionLifecycleListener');

/** Calls every listener; a listener's failure is logged and does not fail the execution. */
export class ExecutionLifecycle {
  constructor(
    private readonly listeners: readonly ExecutionLifecycleListener[],
    private readonly logger: Logger,
  ) {}

  get empty(): boolean {
    return this.listeners.length === 0;
  }

  async started(execution: Execution): Promise<void> {
    for (const listener of this.listeners) {
      if (!listener.started) continue;
      try {
        await listener.started(execution);
      } catch (e) {
        this.logger.error('execution listener failed on start', { executionId: execution.id, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  async finished(execution: Execution): Promise<void> {
    for (const listener of this.listeners) {
      if (!listener.finished) continue;
      try {
        await listener.finished(execution);
      } catch (e) {
        this.logger.error('execution listener failed on finish', { executionId: execution.id, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}
