import type { Execution } from './execution.js';

export type ExecutionEvent =
  /** The execution reached completed, failed or cancelled; `execution` is it as stored then. */
  | { type: 'finished'; executionId: string; execution: Execution }
  | { type: 'cancel_requested'; executionId: string };

/**
 * Tells whoever waits on an execution (an HTTP request with ?wait=, the worker running it)
 * that it finished or should stop. Best effort: storage stays the source of truth.
 */
export interface ExecutionEvents {
  publish(event: ExecutionEvent): void;
  /** Listens for events about one execution; returns the function that stops listening. */
  subscribe(executionId: string, listener: (event: ExecutionEvent) => void): () => void;
}
export const ExecutionEvents = Symbol.for('blockyard/ExecutionEvents');
