import type { BlockDefinition } from '@blockyard/contracts';

export type { BlockDefinition };

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
}

export type BlockHandlerReturn =
  | AsyncIterable<BlockOutput>
  | Iterable<BlockOutput>
  | Promise<BlockResult | BlockErrorResult | void>
  | BlockResult
  | BlockErrorResult
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
