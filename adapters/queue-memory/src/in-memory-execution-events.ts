import type { ExecutionEvent, ExecutionEvents } from '@blockyard/core';

/** Execution events within one process. */
export class InMemoryExecutionEvents implements ExecutionEvents {
  readonly #listeners = new Map<string, Set<(event: ExecutionEvent) => void>>();

  publish(event: ExecutionEvent): void {
    const listeners = this.#listeners.get(event.executionId);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  subscribe(executionId: string, listener: (event: ExecutionEvent) => void): () => void {
    let listeners = this.#listeners.get(executionId);
    if (!listeners) this.#listeners.set(executionId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(executionId) === listeners) this.#listeners.delete(executionId);
    };
  }

  /** Executions someone listens to: for tests (a leak shows here). */
  get subscribedExecutions(): number {
    return this.#listeners.size;
  }
}
