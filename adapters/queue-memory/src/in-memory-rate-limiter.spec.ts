import { expect } from 'chai';
import { rateLimiterContract } from '@blockyard/core/testing';
import { InMemoryRateLimiter } from './in-memory-rate-limiter.js';

rateLimiterContract('memory', async () => ({ limiter: new InMemoryRateLimiter(), close: async () => {} }));

describe('InMemoryRateLimiter', () => {
  describe('consume', () => {
    it('drops ended windows as keys come and go, keeping the live ones', async () => {
      const limiter = new InMemoryRateLimiter({ sweepAbove: 100 });
      const rules = [{ limit: 1, windowMs: 1000 }];
      for (let i = 0; i < 99; i++) await limiter.consume(`old-${i}`, rules, 0);
      await limiter.consume('live', [{ limit: 1, windowMs: 60_000 }], 0);
      expect(limiter.size).to.equal(100); // the 100th window triggered a sweep at t=0: nothing had ended
      for (let i = 0; i < 100; i++) await limiter.consume(`new-${i}`, rules, 5000);
      expect(limiter.size).to.equal(101); // the 200th swept the 99 ended ones
      expect((await limiter.consume('live', [{ limit: 1, windowMs: 60_000 }], 5000)).allowed).to.equal(false);
    });
  });
});
