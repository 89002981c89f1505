/**
 * P1: in-process no-op block executions per second, with validation on.
 *
 * Times `BlockEngine.run()` on a block whose handler does nothing but echo its input, so what
 * is measured is the engine's own cost: input validation, the run's bookkeeping (state,
 * promise, watchdog registration), driving the handler, output validation and the outcome.
 *
 * Baseline, measured in the same process and interleaved with the engine runs: the two ajv
 * validations alone (`validateInputs` + `validateOutput`), i.e. the work the engine cannot
 * avoid. The ratio engine ns/op ÷ baseline ns/op is how much the engine adds on top.
 *
 * Variants: two handler styles (async generator yielding `['text', text]`, and an async
 * function returning `{ data: { text } }`), each run sequentially (await one run, then the
 * next) and concurrently (batches of CONCURRENCY runs awaited with Promise.all). The headline
 * is the best variant.
 *
 * References (informational, not in any target): each handler called and consumed without
 * the engine, the floor an async run costs in V8 whatever the engine does.
 */
import {
  BlockEngine,
  InMemoryBlockRegistry,
  noopLogger,
  type Block,
  type BlockContext,
  type BlockDefinition,
  type BlockOutput,
  type BlockResult,
  type RegisteredBlock,
  type RunOutcome,
} from '@blockyard/core';
import type { BenchSettings } from './settings.js';
import { combine, measure, type Batch, type RoundedThroughput, type Throughput } from './timing.js';

export const P1_TARGET = { opsPerSec: 200_000, maxRatio: 3 } as const;

/** Runs in flight at once in the concurrent variants. */
const CONCURRENCY = 100;
/** Operations between two looks at the clock. */
const OPS_PER_BATCH = 1_000;
/**
 * Each measurement is split into this many rounds, interleaved with the other subjects',
 * so that drift in machine speed hits all of them alike.
 */
const ROUNDS = 3;

type HandlerStyle = 'generator' | 'promise';
type Mode = 'sequential' | 'concurrent';

export interface P1Variant {
  name: string;
  handler: HandlerStyle;
  mode: Mode;
  /** Runs in flight at once. */
  concurrency: number;
  result: RoundedThroughput;
  /** Engine ns/op ÷ baseline ns/op. */
  ratio: number;
  meetsOpsTarget: boolean;
  meetsRatioTarget: boolean;
}

export interface P1Result {
  target: typeof P1_TARGET;
  baseline: RoundedThroughput & { what: string };
  /** Informational: each handler style called and consumed without the engine or validation. */
  references: Array<RoundedThroughput & { name: string }>;
  variants: P1Variant[];
  headline: P1Variant;
}

const ioSchemas = {
  input_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
  output_schema: { type: 'object', properties: { text: { type: 'string' } } },
} satisfies Pick<BlockDefinition, 'input_schema' | 'output_schema'>;

function noopDefinition(id: string): BlockDefinition {
  return { id, name: id, description: 'does nothing but echo its input (benchmark)', categories: ['bench'], ...ioSchemas };
}

const handlers: Record<HandlerStyle, Block> = {
  generator: {
    definition: noopDefinition('bench.noop_generator'),
    async *handler(inputs): AsyncGenerator<BlockOutput> {
      yield ['text', inputs.text];
    },
  },
  promise: {
    definition: noopDefinition('bench.noop_promise'),
    async handler(inputs) {
      return { data: { text: inputs.text } };
    },
  },
};

const RUN_OPTIONS = { executionId: 'bench' } as const;

function expectCompleted(outcome: RunOutcome): void {
  if (outcome.status !== 'completed') throw new Error(`bench block did not complete: ${outcome.status}: ${outcome.error}`);
}

/** One run at a time: each awaited before the next starts. */
function sequentialBatch(engine: BlockEngine, block: RegisteredBlock): Batch {
  return async () => {
    for (let i = 0; i < OPS_PER_BATCH; i++) expectCompleted(await engine.run(block, { text: 'x' }, RUN_OPTIONS));
    return OPS_PER_BATCH;
  };
}

/** CONCURRENCY runs started together, then awaited together with Promise.all. */
function concurrentBatch(engine: BlockEngine, block: RegisteredBlock): Batch {
  const groups = Math.max(1, Math.round(OPS_PER_BATCH / CONCURRENCY));
  return async () => {
    const runs = new Array<Promise<RunOutcome>>(CONCURRENCY);
    for (let g = 0; g < groups; g++) {
      for (let i = 0; i < CONCURRENCY; i++) runs[i] = engine.run(block, { text: 'x' }, RUN_OPTIONS);
      for (const outcome of await Promise.all(runs)) expectCompleted(outcome);
    }
    return groups * CONCURRENCY;
  };
}

/**
 * Not a target's baseline, a reference: the handler called and its result consumed the way
 * the engine must (for-await over the generator, await of the promise), with no engine and no
 * validation. It is the floor of what an async run costs in V8 whatever the engine does.
 */
function handlerOnlyBatch(block: RegisteredBlock, style: HandlerStyle): Batch {
  const context: BlockContext = { executionId: 'bench', blockId: block.definition.id, signal: new AbortController().signal, logger: noopLogger, addCost() {}, credentials: null, fetch: () => Promise.reject(new Error('no fetch in the bench')) };
  if (style === 'generator') {
    return async () => {
      for (let i = 0; i < OPS_PER_BATCH; i++) {
        for await (const output of block.handler({ text: 'x' }, context) as AsyncIterable<BlockOutput>) if (output[0] !== 'text') throw new Error('unexpected output');
      }
      return OPS_PER_BATCH;
    };
  }
  return async () => {
    for (let i = 0; i < OPS_PER_BATCH; i++) {
      const result = (await block.handler({ text: 'x' }, context)) as BlockResult;
      if (result.data?.text !== 'x') throw new Error('unexpected result');
    }
    return OPS_PER_BATCH;
  };
}

/** The baseline: just the two validations a run needs, no engine around them. */
function validationOnlyBatch(block: RegisteredBlock): Batch {
  return () => {
    for (let i = 0; i < OPS_PER_BATCH; i++) {
      if (block.validateInputs({ text: 'x' }) !== null || block.validateOutput('text', 'x') !== null) throw new Error('baseline validation failed');
    }
    return OPS_PER_BATCH;
  };
}

export async function runP1(settings: BenchSettings, log: (line: string) => void): Promise<P1Result> {
  const registry = new InMemoryBlockRegistry();
  const engine = new BlockEngine();
  const blocks = {
    generator: registry.register(handlers.generator, 'bench'),
    promise: registry.register(handlers.promise, 'bench'),
  };

  const variantSpecs: Array<Pick<P1Variant, 'name' | 'handler' | 'mode' | 'concurrency'> & { batch: Batch }> = [];
  for (const handler of ['generator', 'promise'] as const) {
    variantSpecs.push({ name: `${handler} handler, sequential`, handler, mode: 'sequential', concurrency: 1, batch: sequentialBatch(engine, blocks[handler]) });
    variantSpecs.push({ name: `${handler} handler, ${CONCURRENCY} concurrent`, handler, mode: 'concurrent', concurrency: CONCURRENCY, batch: concurrentBatch(engine, blocks[handler]) });
  }
  const referenceSpecs = (['generator', 'promise'] as const).map((handler) => ({ name: `${handler} handler alone`, batch: handlerOnlyBatch(blocks[handler], handler) }));
  // All subjects measured alike: the baseline, the references, then the engine variants.
  const batches = [validationOnlyBatch(blocks.generator), ...referenceSpecs.map((spec) => spec.batch), ...variantSpecs.map((spec) => spec.batch)];

  log(`P1 warming up (${settings.warmupSeconds} s per subject)...`);
  for (const batch of batches) await measure(batch, settings.warmupSeconds);

  log(`P1 measuring ${batches.length} subjects, ${settings.seconds} s each in ${ROUNDS} interleaved rounds...`);
  const parts = batches.map(() => [] as Throughput[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, batch] of batches.entries()) parts[i]!.push(await measure(batch, settings.seconds / ROUNDS));
  }
  const results = parts.map(combine);
  const baseline = results[0]!;
  const references = referenceSpecs.map(({ name }, i) => ({ name, ...results[1 + i]! }));
  const engineResults = results.slice(1 + referenceSpecs.length);

  const variants: P1Variant[] = variantSpecs.map(({ batch: _batch, ...spec }, i) => {
    const result = engineResults[i]!;
    const ratio = result.nsPerOp / baseline.nsPerOp;
    return { ...spec, result, ratio, meetsOpsTarget: result.opsPerSec >= P1_TARGET.opsPerSec, meetsRatioTarget: ratio <= P1_TARGET.maxRatio };
  });
  const headline = variants.reduce((best, v) => (v.result.opsPerSec > best.result.opsPerSec ? v : best));
  return { target: P1_TARGET, baseline: { what: 'validateInputs + validateOutput, no engine', ...baseline }, references, variants, headline };
}
