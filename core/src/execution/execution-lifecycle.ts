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
  /** `started` calls still reaching their listeners, by execution. */
  readonly #starting = new Map<string, Promise<void>>();

  constructor(
    private readonly listeners: readonly ExecutionLifecycleListener[],
    private readonly logger: Logger,
  ) {}

  get empty(): boolean {
    return this.listeners.length === 0;
  }

  /**
   * Tells every listener that the execution started, in the background: the execution goes on
   * at once (a listener's writes never hold up its first node). `finished` of the same execution
   * waits for these calls first, so that listeners always see the two in order.
   */
  started(execution: Execution): Promise<void> {
    if (this.listeners.length === 0) return Promise.resolve();
    const telling = this.#tellStarted(execution);
    this.#starting.set(execution.id, telling);
    void telling.finally(() => {
      if (this.#starting.get(execution.id) === telling) this.#starting.delete(execution.id);
    });
    return Promise.resolve();
  }

  /** Resolves once every `started` call made so far has reached its listeners (before a shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.#starting.values());
  }

  async #tellStarted(execution: Execution): Promise<void> {
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
    const starting = this.#starting.get(execution.id);
    if (starting) await starting;
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
