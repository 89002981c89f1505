import { expect } from 'chai';
import { defineBlock, sleep } from './index.js';

describe('plugin SDK', () => {
  describe('defineBlock', () => {
    it('returns the handler itself', () => {
      const handler = async () => ({ data: {} });
      expect(defineBlock(handler)).to.equal(handler);
    });

    it('rejects something that is not a function', () => {
      expect(() => defineBlock(42 as never)).to.throw(TypeError, 'defineBlock expects a handler function');
    });
  });

  describe('sleep', () => {
    it('resolves after the time', async () => {
      const t0 = Date.now();
      await sleep(30);
      expect(Date.now() - t0).to.be.at.least(25);
    });

    it('rejects with the signal reason as soon as it aborts', async () => {
      const controller = new AbortController();
      const t0 = Date.now();
      setTimeout(() => controller.abort(new Error('stop')), 20);
      let error: unknown;
      await sleep(10_000, controller.signal).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal('stop');
      expect(Date.now() - t0).to.be.below(1000);
    });

    it('rejects at once on an already aborted signal', async () => {
      const controller = new AbortController();
      controller.abort(new Error('already'));
      let error: unknown;
      await sleep(10_000, controller.signal).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal('already');
    });
  });
});
