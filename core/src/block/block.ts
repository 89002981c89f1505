import type { BlockDefinition } from '@blockyard/contracts';
import type { ContextFetch } from '../outbound/outbound-http.port.js';

export type { BlockDefinition };

/** The secret a run gets for its block's credential requirement, for this run only. */
export type ResolvedCredential =
  | { kind: 'api_key'; api_key: string }
  | { kind: 'oauth2'; access_token: string; scopes: string[] }
  | { kind: 'user_password'; username: string; password: string }
  | { kind: 'host_scoped'; host: string; headers: Record<string, string> };

const ACTION_ERROR = Symbol.for('blockyard/ActionError');

/**
 * An expected failure a handler returns (`return new ActionError('repository not found', 0.01)`):
 * the run fails with this message and still costs `costUsd`.
 */
export class ActionError {
  readonly [ACTION_ERROR] = true;
  constructor(
    readonly message: string,
    readonly costUsd = 0,
  ) {}

  static is(value: unknown): value is ActionError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ACTION_ERROR] === true;
  }
}

/** One named output value, as a streaming handler yields it: `yield ['text', 'hello']`. */
export type BlockOutput = readonly [name: string, value: unknown];

/** What a handler may return instead of yielding: its outputs by name, and what the run cost. */
export interface BlockResult {
  data?: Record<string, unknown>;
  costUsd?: number;
}

/** An expected failure (bad credentials, a 404 upstream ...): fails the run with this message. */
export interface BlockErrorResult {
  error: string;
  costUsd?: number;
}

export interface BlockLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What a handler gets besides its inputs, for this one run. */
export interface BlockContext {
  readonly executionId: string;
  readonly blockId: string;
  /** Aborted when the run is cancelled or times out. */
  readonly signal: AbortSignal;
  readonly logger: BlockLogger;
  /** Adds to the run's cost (in USD) as the handler goes, e.g. per streamed item. */
  addCost(usd: number): void;
  /** The block's credential, resolved for this run; null when the block needs none. */
  readonly credentials: ResolvedCredential | null;
  /**
   * HTTP for this run: injects the credential as the provider declares, resolves relative
   * URLs against the provider's base URL, retries, times out, refuses internal addresses.
   */
  readonly fetch: ContextFetch;
}

export type BlockHandlerReturn =
  | AsyncIterable<BlockOutput>
  | Iterable<BlockOutput>
  | Promise<BlockResult | BlockErrorResult | void>
  | BlockResult
  | BlockErrorResult
  | ActionError
  | Promise<ActionError>
  | void;

export type BlockHandler<I = Record<string, unknown>> = (inputs: I, context: BlockContext) => BlockHandlerReturn;

/** A block as a plugin provides it: its definition and the code that runs it. */
export interface Block<I = Record<string, unknown>> {
  definition: BlockDefinition;
  handler: BlockHandler<I>;
}

export const noopLogger: BlockLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
