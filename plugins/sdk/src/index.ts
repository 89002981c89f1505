import type { BlockHandler } from '@blockyard/core';

export { ActionError, OutboundRequestError } from '@blockyard/core';
export { defineWebhookManager, hmacSha256Hex, safeEqual, type WebhookDelivery, type WebhookEvent, type WebhookManager } from './webhooks.js';
export type {
  ContextFetch,
  FetchRequest,
  FetchResponse,
  ResolvedCredential,
  BlockContext,
  BlockDefinition,
  BlockErrorResult,
  BlockHandler,
  BlockHandlerReturn,
  BlockLogger,
  BlockOutput,
  BlockResult,
} from '@blockyard/core';

/** The handlers a plugin's entry module exports as `handlers`, keyed by block id. */
export type PluginHandlers = Record<string, BlockHandler<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Declares a block's handler with typed inputs (generate them with `blockyard plugin typegen`).
 * The handler either yields `[outputName, value]` pairs (an async generator), returns
 * `{ data, costUsd }`, or returns (or throws) `new ActionError(message, costUsd)` for an
 * expected failure. `context` has credentials, fetch, logger, signal and executionId.
 */
export function defineBlock<I = Record<string, unknown>>(handler: BlockHandler<I>): BlockHandler<I> {
  if (typeof handler !== 'function') throw new TypeError('defineBlock expects a handler function');
  return handler;
}

/** Sleeps for `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
