import { expect } from 'chai';
import type { JsonObjectSchema } from '@blockyard/contracts';
import { ActionError, type Block, type BlockContext } from '../block/block.js';
import { InMemoryBlockRegistry } from '../block/in-memory-block-registry.js';
import { BlockEngine } from './block-engine.js';

const textOut: JsonObjectSchema = { type: 'object', properties: { text: { type: 'string' }, n: { type: 'integer' } } };
const textIn: JsonObjectSchema = { type: 'object', required: ['text'], properties: { text: { type: 'string' }, times: { type: 'integer', default: 1 } } };

function blockFixture(handler: Block['handler'], overrides: Partial<Block['definition']> = {}) {
  const registry = new InMemoryBlockRegistry();
  return registry.register(
    { definition: { id: 'test.block', name: 'Test', description: '', categories: [], input_schema: textIn, output_schema: textOut, ...overrides }, handler },
    'spec',
  );
}

const engine = new BlockEngine({ cancelGraceMs: 100, watchdogIntervalMs: 5 });
const run = (block: ReturnType<typeof blockFixture>, inputs: Record<string, unknown> = { text: 'hi' }) => engine.run(block, inputs, { executionId: 'e1' });

describe('BlockEngine', () => {
  describe('run', () => {
    it('collects yielded outputs as name -> list of values, in order', async () => {
      const block = blockFixture(async function* (inputs: Record<string, unknown>) {
        yield ['text', inputs.text];
        yield ['text', 'again'];
        yield ['n', 2];
      });
      const outcome = await run(block);
      expect(outcome).to.deep.equal({ status: 'completed', outputs: { text: ['hi', 'again'], n: [2] }, costUsd: 0, error: null });
    });

    it('applies input defaults before the handler sees the inputs', async () => {
      let seen: unknown;
      const block = blockFixture((inputs) => {
        seen = inputs;
      });
      await run(block);
      expect(seen).to.deep.equal({ text: 'hi', times: 1 });
    });

    it('fails with the failing paths when inputs are invalid, without calling the handler', async () => {
      let called = false;
      const block = blockFixture(() => {
        called = true;
      });
      const outcome = await run(block, { text: 5 });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.contain('/text: must be string');
      expect(called).to.equal(false);
    });

    it('maps a returned { data, costUsd } to outputs and adds the static cost', async () => {
      const block = blockFixture(async () => ({ data: { text: 'done' }, costUsd: 0.5 }), { cost: { per_run_usd: 0.25 } });
      const outcome = await run(block);
      expect(outcome).to.deep.equal({ status: 'completed', outputs: { text: ['done'] }, costUsd: 0.75, error: null });
    });

    it('adds the cost picked by an input value (cost.per_input_value)', async () => {
      const block = blockFixture(async () => ({ data: { text: 'ok' }, costUsd: 0.5 }), {
        input_schema: { type: 'object', properties: { text: { type: 'string' }, model: { type: 'string' } } },
        cost: { per_run_usd: 0.25, per_input_value: { input: 'model', values: { large: 2, small: 1 } } },
      });
      expect((await run(block, { text: 'x', model: 'large' })).costUsd).to.equal(2.75);
      expect((await run(block, { text: 'x', model: 'unknown' })).costUsd).to.equal(0.75);
    });

    it('fails with the message and cost of a returned or thrown ActionError', async () => {
      const returned = blockFixture(async () => new ActionError('repository not found', 0.01));
      expect(await run(returned)).to.include({ status: 'failed', error: 'repository not found', costUsd: 0.01 });
      const thrown = blockFixture(async () => {
        throw new ActionError('rate limited; retry after 30 s');
      });
      expect(await run(thrown)).to.include({ status: 'failed', error: 'rate limited; retry after 30 s', costUsd: 0 });
    });

    it('fails when a generator handler returns an ActionError after yielding', async () => {
      const block = blockFixture(async function* () {
        yield ['text', 'partial'];
        return new ActionError('channel not found', 0.02);
      });
      expect(await run(block)).to.deep.equal({ status: 'failed', outputs: { text: ['partial'] }, costUsd: 0.02, error: 'channel not found' });
    });

    it('gives the handler the run credential and a fetch made for its signal', async () => {
      let seen: unknown;
      const block = blockFixture(async (_inputs, ctx: BlockContext) => {
        seen = { credentials: ctx.credentials, answer: await ctx.fetch('/ping') };
      });
      let signalGiven: AbortSignal | undefined;
      await engine.run(block, { text: 'x' }, {
        executionId: 'e9',
        credentials: { kind: 'api_key', api_key: 'k' },
        createFetch: (signal) => {
          signalGiven = signal;
          return (async (url: string) => ({ status: 200, ok: true, headers: {}, data: url, url })) as never;
        },
      });
      expect(seen).to.deep.equal({ credentials: { kind: 'api_key', api_key: 'k' }, answer: { status: 200, ok: true, headers: {}, data: '/ping', url: '/ping' } });
      expect(signalGiven).to.be.instanceOf(AbortSignal);
    });

    it('fails with the message of a returned { error, costUsd }, keeping the cost', async () => {
      const block = blockFixture(async () => ({ error: 'upstream said no', costUsd: 0.1 }));
      const outcome = await run(block);
      expect(outcome).to.include({ status: 'failed', error: 'upstream said no', costUsd: 0.1 });
    });

    it('fails when the handler yields an output named error', async () => {
      const block = blockFixture(async function* () {
        yield ['text', 'partial'];
        yield ['error', 'quota exceeded'];
        yield ['text', 'never'];
      });
      const outcome = await run(block);
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('quota exceeded');
      expect(outcome.outputs).to.deep.equal({ text: ['partial'] });
    });

    it('fails naming the block when an output value does not match its schema', async () => {
      const block = blockFixture(async function* () {
        yield ['n', 'not a number'];
      });
      const outcome = await run(block);
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.contain('test.block').and.to.contain('/n: must be integer');
    });

    it('fails on an output name the schema does not declare', async () => {
      const block = blockFixture(async function* () {
        yield ['surprise', 1];
      });
      expect((await run(block)).error).to.contain('/surprise: is not an output of this block');
    });

    it('fails with a message naming the block, and no stack, when the handler throws', async () => {
      const block = blockFixture(async () => {
        throw new Error('kaboom');
      });
      const outcome = await run(block);
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('block test.block failed: kaboom');
      expect(outcome.error).not.to.contain(' at ');
    });

    it('fails a block that runs past its timeout and aborts its signal', async () => {
      let aborted = false;
      const block = blockFixture(
        (_inputs, ctx: BlockContext) =>
          new Promise<void>((_resolve, reject) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              reject(ctx.signal.reason);
            });
          }),
        { timeout_ms: 30 },
      );
      const outcome = await run(block);
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('block test.block timed out after 30 ms');
      expect(aborted).to.equal(true);
    });
  });

  describe('cancel', () => {
    it('aborts the signal and ends the run cancelled', async () => {
      const block = blockFixture(async function* (_inputs, ctx: BlockContext) {
        yield ['text', 'started'];
        await new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      });
      const started = engine.start(block, { text: 'x' }, { executionId: 'e2' });
      await new Promise((r) => setTimeout(r, 10));
      started.cancel();
      const outcome = await started.outcome;
      expect(outcome.status).to.equal('cancelled');
      expect(outcome.outputs).to.deep.equal({ text: ['started'] });
    });

    it('abandons a handler that ignores the signal after the grace period', async () => {
      const block = blockFixture(() => new Promise<void>(() => {}));
      const started = engine.start(block, { text: 'x' }, { executionId: 'e3' });
      const t0 = Date.now();
      started.cancel();
      const outcome = await started.outcome;
      expect(outcome.status).to.equal('cancelled');
      expect(Date.now() - t0).to.be.at.least(90);
    });

    it('gives an already aborted signal to a handler that first looks after the cancel', async () => {
      let abortedWhenSeen: boolean | undefined;
      const block = blockFixture(async (_inputs, ctx: BlockContext) => {
        await new Promise((r) => setTimeout(r, 30));
        abortedWhenSeen = ctx.signal.aborted;
      });
      const started = engine.start(block, { text: 'x' }, { executionId: 'e4' });
      started.cancel();
      await started.outcome;
      await new Promise((r) => setTimeout(r, 50));
      expect(abortedWhenSeen).to.equal(true);
    });
  });
});
