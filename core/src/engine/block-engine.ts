import { formatIssues } from '@blockyard/contracts';
import { ActionError, noopLogger, type BlockContext, type BlockErrorResult, type BlockLogger, type BlockResult, type ResolvedCredential } from '../block/block.js';
import type { ContextFetch } from '../outbound/outbound-http.port.js';
import type { RegisteredBlock } from '../block/block-registry.port.js';

export type RunOutcome =
  | { status: 'completed'; outputs: Record<string, unknown[]>; costUsd: number; error: null }
  | { status: 'failed' | 'cancelled'; outputs: Record<string, unknown[]>; costUsd: number; error: string };

export interface RunOptions {
  executionId: string;
  /** Overrides the block's own timeout_ms and the engine default. */
  timeoutMs?: number;
  logger?: BlockLogger;
  /** The resolved credential the handler sees as context.credentials. */
  credentials?: ResolvedCredential | null;
  /** Makes context.fetch, on first use, bound to the run's abort signal. */
  createFetch?: (signal: AbortSignal) => ContextFetch;
  /** Told of each output value as it is produced (after validation), in order. */
  onOutput?: (name: string, value: unknown) => void;
}

/** A block run in progress. */
export interface BlockRun {
  readonly outcome: Promise<RunOutcome>;
  /** Aborts the run's signal; a handler that ignores it is abandoned after the grace period. */
  cancel(reason?: string): void;
}

export interface BlockEngineOptions {
  /** Used when neither the run nor the block sets a timeout. Default 5 minutes. */
  defaultTimeoutMs?: number;
  /** How long a cancelled or timed-out handler may take to stop before it is abandoned. Default 5 s. */
  cancelGraceMs?: number;
  /** How often deadlines are checked. Default 25 ms. */
  watchdogIntervalMs?: number;
}

/**
 * Runs blocks: validates inputs (filling defaults), calls the handler with a context whose
 * signal aborts on cancel or timeout, collects and validates outputs, and turns whatever
 * happens into a RunOutcome. It never throws for a handler's sake.
 */
export class BlockEngine {
  readonly defaultTimeoutMs: number;
  readonly cancelGraceMs: number;
  readonly #watchdogIntervalMs: number;
  readonly #active = new Set<RunState>();
  #watchdog: ReturnType<typeof setInterval> | null = null;

  constructor(options: BlockEngineOptions = {}) {
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 300_000;
    this.cancelGraceMs = options.cancelGraceMs ?? 5_000;
    this.#watchdogIntervalMs = options.watchdogIntervalMs ?? 25;
  }

  /** Starts a run. Invalid inputs give a failed outcome without calling the handler. */
  start(block: RegisteredBlock, inputs: Record<string, unknown>, options: RunOptions): BlockRun {
    const timeoutMs = options.timeoutMs ?? block.definition.timeout_ms ?? this.defaultTimeoutMs;
    const state = new RunState(block, options, Date.now() + timeoutMs, timeoutMs, this.cancelGraceMs);
    const issues = block.validateInputs(inputs);
    if (issues) {
      state.settle(state.failure(`invalid inputs for block ${block.definition.id}: ${formatIssues(issues)}`));
      return state;
    }
    state.inputCost = inputCost(block, inputs);
    this.#active.add(state);
    if (this.#watchdog === null) this.#startWatchdog();
    drive(block, inputs, state).then(
      (outcome) => {
        this.#active.delete(state);
        state.settle(state.aborted ? state.abortOutcome() : outcome);
      },
      /* c8 ignore next */ (e: unknown) => {
        this.#active.delete(state);
        state.settle(state.failure(`block ${block.definition.id} failed: ${messageOf(e)}`));
      },
    );
    return state;
  }

  /** Starts a run and waits for its outcome. */
  run(block: RegisteredBlock, inputs: Record<string, unknown>, options: RunOptions): Promise<RunOutcome> {
    return this.start(block, inputs, options).outcome;
  }

  /** Runs currently in flight. */
  get activeRuns(): number {
    return this.#active.size;
  }

  #startWatchdog(): void {
    this.#watchdog = setInterval(() => {
      if (this.#active.size === 0) {
        clearInterval(this.#watchdog!);
        this.#watchdog = null;
        return;
      }
      const now = Date.now();
      for (const state of this.#active) if (!state.aborted && now >= state.deadline) state.timeOut();
    }, this.#watchdogIntervalMs);
    this.#watchdog.unref?.();
  }
}

class RunState implements BlockContext, BlockRun {
  readonly outputs: Record<string, unknown[]> = {};
  readonly outcome: Promise<RunOutcome>;
  cost = 0;
  aborted: { status: 'failed' | 'cancelled'; message: string } | null = null;
  inputCost = 0;
  readonly executionId: string;
  readonly logger: BlockLogger;
  readonly credentials: ResolvedCredential | null;
  #controller: AbortController | null = null;
  #fetch: ContextFetch | null = null;
  readonly #createFetch: RunOptions['createFetch'];
  readonly #onOutput: RunOptions['onOutput'];
  #resolve!: (outcome: RunOutcome) => void;
  #settled = false;

  constructor(
    readonly block: RegisteredBlock,
    options: RunOptions,
    readonly deadline: number,
    readonly timeoutMs: number,
    readonly graceMs: number,
  ) {
    this.executionId = options.executionId;
    this.logger = options.logger ?? noopLogger;
    this.credentials = options.credentials ?? null;
    this.#createFetch = options.createFetch;
    this.#onOutput = options.onOutput;
    this.outcome = new Promise((resolve) => (this.#resolve = resolve));
  }

  get fetch(): ContextFetch {
    if (!this.#fetch) {
      const create = this.#createFetch;
      this.#fetch = create ? create(this.signal) : () => Promise.reject(new Error('context.fetch is not available to this run'));
    }
    return this.#fetch;
  }

  get blockId(): string {
    return this.block.definition.id;
  }

  // Created on first use: most handlers never look at it, and an AbortController is not free.
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(new Error(this.aborted.message));
    }
    return this.#controller.signal;
  }

  addCost(usd: number): void {
    if (Number.isFinite(usd) && usd > 0) this.cost += usd;
  }

  cancel(reason = 'cancelled'): void {
    this.#abort('cancelled', reason);
  }

  timeOut(): void {
    this.#abort('failed', `block ${this.blockId} timed out after ${this.timeoutMs} ms`);
  }

  #abort(status: 'failed' | 'cancelled', message: string): void {
    if (this.aborted || this.#settled) return;
    this.aborted = { status, message };
    this.#controller?.abort(new Error(message));
    const timer = setTimeout(() => this.settle(this.abortOutcome()), this.graceMs);
    timer.unref?.();
    void this.outcome.then(() => clearTimeout(timer));
  }

  settle(outcome: RunOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(outcome);
  }

  totalCost(extra = 0): number {
    return (this.block.definition.cost?.per_run_usd ?? 0) + this.inputCost + this.cost + (Number.isFinite(extra) && extra > 0 ? extra : 0);
  }

  abortOutcome(): RunOutcome {
    return { status: this.aborted!.status, outputs: this.outputs, costUsd: this.totalCost(), error: this.aborted!.message };
  }

  failure(message: string, extraCost = 0): RunOutcome {
    return { status: 'failed', outputs: this.outputs, costUsd: this.totalCost(extraCost), error: message };
  }

  /** Records one output; returns a failed outcome when it ends the run. */
  emit(name: string, value: unknown): RunOutcome | null {
    if (name === 'error') return this.failure(typeof value === 'string' ? value : JSON.stringify(value));
    const issues = this.block.validateOutput(name, value);
    if (issues) return this.failure(`block ${this.blockId} produced an invalid output: ${formatIssues(issues)}`);
    const list = this.outputs[name];
    if (list) list.push(value);
    else this.outputs[name] = [value];
    this.#onOutput?.(name, value);
    return null;
  }
}

async function drive(block: RegisteredBlock, inputs: Record<string, unknown>, state: RunState): Promise<RunOutcome> {
  const id = block.definition.id;
  try {
    let ret: unknown = block.handler(inputs, state);
    if (ret !== null && typeof ret === 'object') {
      const iterable = ret as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
      if (typeof iterable[Symbol.asyncIterator] === 'function' || (typeof iterable[Symbol.iterator] === 'function' && !Array.isArray(ret))) {
        return await consume(ret as AsyncIterable<unknown>, state);
      }
      if (typeof (ret as PromiseLike<unknown>).then === 'function') ret = await ret;
    }
    if (state.aborted) return state.abortOutcome();
    if (ret === undefined || ret === null) return completed(state);
    if (ActionError.is(ret)) return state.failure(ret.message, ret.costUsd);
    if (typeof ret !== 'object' || Array.isArray(ret)) return state.failure(`block ${id} returned ${Array.isArray(ret) ? 'an array' : typeof ret}; expected { data, costUsd } or { error, costUsd }`);
    const result = ret as BlockResult & Partial<BlockErrorResult>;
    if (result.error !== undefined) return state.failure(String(result.error), result.costUsd);
    if (result.data !== undefined) {
      if (result.data === null || typeof result.data !== 'object' || Array.isArray(result.data)) {
        return state.failure(`block ${id} returned data that is not an object of outputs`, result.costUsd);
      }
      for (const name in result.data) {
        const failed = state.emit(name, result.data[name]);
        if (failed) return { ...failed, costUsd: state.totalCost(result.costUsd) };
      }
    }
    return completed(state, result.costUsd);
  } catch (e) {
    if (state.aborted) return state.abortOutcome();
    if (ActionError.is(e)) return state.failure(e.message, e.costUsd);
    return state.failure(`block ${id} failed: ${messageOf(e)}`);
  }
}

async function consume(iterable: AsyncIterable<unknown>, state: RunState): Promise<RunOutcome> {
  const id = state.blockId;
  const iterator = (iterable as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator]
    ? (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]()
    : ((iterable as unknown as Iterable<unknown>)[Symbol.iterator]() as unknown as AsyncIterator<unknown>);
  for (;;) {
    const step = await iterator.next();
    if (state.aborted) {
      void iterator.return?.();
      return state.abortOutcome();
    }
    if (step.done) {
      // A generator may end with `return new ActionError(...)` or `return { error, costUsd }`.
      const value = step.value as unknown;
      if (ActionError.is(value)) return state.failure(value.message, value.costUsd);
      if (value && typeof value === 'object' && typeof (value as BlockErrorResult).error === 'string') return state.failure((value as BlockErrorResult).error, (value as BlockErrorResult).costUsd);
      return completed(state, value && typeof value === 'object' ? (value as BlockResult).costUsd : undefined);
    }
    const item = step.value;
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== 'string') {
      void iterator.return?.();
      return state.failure(`block ${id} yielded ${JSON.stringify(item)?.slice(0, 80)}; expected [outputName, value]`);
    }
    const failed = state.emit(item[0], item[1]);
    if (failed) {
      void iterator.return?.();
      return failed;
    }
  }
}

/** The cost picked by an input's value (cost.per_input_value), 0 when none applies. */
function inputCost(block: RegisteredBlock, inputs: Record<string, unknown>): number {
  const rule = block.definition.cost?.per_input_value;
  if (!rule) return 0;
  const value = inputs[rule.input];
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return 0;
  return rule.values[String(value)] ?? 0;
}

function completed(state: RunState, extraCost?: number): RunOutcome {
  return { status: 'completed', outputs: state.outputs, costUsd: state.totalCost(extraCost), error: null };
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return typeof e === 'string' ? e : 'unknown error';
}
