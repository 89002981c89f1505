import { expect } from 'chai';
import type { RateLimitDecision, RateLimiter, RateLimitRule } from '../rate-limit/rate-limiter.port.js';

export interface RateLimiterFixture {
  /** A limiter with no requests counted yet under any key. */
  limiter: RateLimiter;
  /** Releases the limiter and removes what it stored. */
  close(): Promise<void>;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The behaviour every RateLimiter adapter must have. `open` gives a fresh limiter; times are
 * close to the real clock, as a store that expires its counters in real time needs.
 */
export function rateLimiterContract(name: string, open: () => Promise<RateLimiterFixture>): void {
  describe(`RateLimiter contract: ${name}`, function () {
    this.timeout(20_000);
    let fixture: RateLimiterFixture;
    let limiter: RateLimiter;
    let t0: number;
    beforeEach(async () => {
      fixture = await open();
      limiter = fixture.limiter;
      t0 = Date.now();
    });
    afterEach(async () => {
      await fixture?.close();
    });

    const consumeTimes = async (key: string, rules: readonly RateLimitRule[], times: number, now: number): Promise<RateLimitDecision[]> => {
      const decisions: RateLimitDecision[] = [];
      for (let i = 0; i < times; i++) decisions.push(await limiter.consume(key, rules, now));
      return decisions;
    };

    describe('consume', () => {
      it('allows up to the limit, counting down what remains, then refuses until the window ends', async () => {
        const rules = [{ limit: 3, windowMs: MINUTE }];
        const decisions = await consumeTimes('k', rules, 4, t0);
        expect(decisions.map((d) => [d.allowed, d.remaining])).to.deep.equal([
          [true, 2],
          [true, 1],
          [true, 0],
          [false, 0],
        ]);
        for (const d of decisions) expect({ limit: d.limit, windowMs: d.windowMs, resetAt: d.resetAt }).to.deep.equal({ limit: 3, windowMs: MINUTE, resetAt: t0 + MINUTE });
        expect(decisions.slice(0, 3).map((d) => d.retryAfterMs)).to.deep.equal([0, 0, 0]);
        expect(decisions[3]!.retryAfterMs).to.equal(MINUTE);
        const later = await limiter.consume('k', rules, t0 + 20 * SECOND);
        expect(later).to.include({ allowed: false, remaining: 0, resetAt: t0 + MINUTE, retryAfterMs: 40 * SECOND });
      });

      it('lets exactly `limit` of 50 concurrent consumes through at limit 10', async () => {
        const rules = [{ limit: 10, windowMs: MINUTE }];
        const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.consume('burst', rules, t0)));
        expect(decisions.filter((d) => d.allowed)).to.have.length(10);
        expect(decisions.filter((d) => d.allowed).map((d) => d.remaining).sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(decisions.filter((d) => !d.allowed).every((d) => d.remaining === 0 && d.retryAfterMs === MINUTE)).to.equal(true);
      });

      it('starts a full window again once the last one has ended', async () => {
        const rules = [{ limit: 2, windowMs: 5 * SECOND }];
        await consumeTimes('k', rules, 2, t0);
        expect((await limiter.consume('k', rules, t0 + 5 * SECOND - 1)).allowed).to.equal(false);
        const fresh = await limiter.consume('k', rules, t0 + 5 * SECOND);
        expect(fresh).to.deep.equal({ allowed: true, limit: 2, windowMs: 5 * SECOND, remaining: 1, resetAt: t0 + 10 * SECOND, retryAfterMs: 0 });
      });

      it('starts the window at the key’s first request, not at a clock boundary', async () => {
        const rules = [{ limit: 5, windowMs: MINUTE }];
        const first = await limiter.consume('k', rules, t0 + 1234);
        expect(first.resetAt).to.equal(t0 + 1234 + MINUTE);
        expect((await limiter.consume('k', rules, t0 + 30 * SECOND)).resetAt).to.equal(t0 + 1234 + MINUTE);
      });

      it('counts a request a little before the window’s start (another process’s clock) in that window', async () => {
        const rules = [{ limit: 2, windowMs: MINUTE }];
        await limiter.consume('k', rules, t0);
        expect(await limiter.consume('k', rules, t0 - 50)).to.include({ allowed: true, remaining: 0, resetAt: t0 + MINUTE });
        expect((await limiter.consume('k', rules, t0 - 50)).allowed).to.equal(false);
      });
    });

    describe('several rules at once', () => {
      const perMinuteAndHour = [
        { limit: 3, windowMs: MINUTE },
        { limit: 5, windowMs: HOUR },
      ];

      it('refuses on the first exhausted rule, then on the next, telling each one’s limit and reset', async () => {
        const first = await consumeTimes('k', perMinuteAndHour, 4, t0);
        expect(first.map((d) => d.allowed)).to.deep.equal([true, true, true, false]);
        expect(first[3]).to.deep.equal({ allowed: false, limit: 3, windowMs: MINUTE, remaining: 0, resetAt: t0 + MINUTE, retryAfterMs: MINUTE });
        // A minute later the minute's budget is back, but the hour has only 2 left.
        const second = await consumeTimes('k', perMinuteAndHour, 3, t0 + MINUTE);
        expect(second.map((d) => d.allowed)).to.deep.equal([true, true, false]);
        expect(second[1]).to.include({ limit: 5, windowMs: HOUR, remaining: 0, resetAt: t0 + HOUR });
        expect(second[2]).to.deep.equal({ allowed: false, limit: 5, windowMs: HOUR, remaining: 0, resetAt: t0 + HOUR, retryAfterMs: HOUR - MINUTE });
      });

      it('reports the rule with the fewest requests left', async () => {
        const rules = [
          { limit: 100, windowMs: HOUR },
          { limit: 4, windowMs: MINUTE },
        ];
        expect(await limiter.consume('k', rules, t0)).to.deep.equal({ allowed: true, limit: 4, windowMs: MINUTE, remaining: 3, resetAt: t0 + MINUTE, retryAfterMs: 0 });
        const tight = [
          { limit: 10, windowMs: MINUTE },
          { limit: 2, windowMs: HOUR },
        ];
        expect(await limiter.consume('other', tight, t0)).to.include({ limit: 2, windowMs: HOUR, remaining: 1 });
      });

      it('waits for the exhausted rule that frees up last when several are exhausted', async () => {
        const rules = [
          { limit: 2, windowMs: MINUTE },
          { limit: 2, windowMs: HOUR },
        ];
        await consumeTimes('k', rules, 2, t0);
        expect(await limiter.consume('k', rules, t0 + SECOND)).to.deep.equal({ allowed: false, limit: 2, windowMs: HOUR, remaining: 0, resetAt: t0 + HOUR, retryAfterMs: HOUR - SECOND });
      });

      it('does not count a refused request against any rule', async () => {
        await consumeTimes('k', perMinuteAndHour, 3, t0);
        const refused = await consumeTimes('k', perMinuteAndHour, 10, t0 + SECOND);
        expect(refused.every((d) => !d.allowed)).to.equal(true);
        // The hour still has its 2: the ten refusals took nothing from it.
        const next = await consumeTimes('k', perMinuteAndHour, 2, t0 + MINUTE);
        expect(next.map((d) => [d.allowed, d.remaining])).to.deep.equal([
          [true, 1],
          [true, 0],
        ]);
      });

      it('never lets a concurrent burst past the tighter of two rules', async () => {
        const rules = [
          { limit: 8, windowMs: MINUTE },
          { limit: 6, windowMs: HOUR },
        ];
        const decisions = await Promise.all(Array.from({ length: 30 }, () => limiter.consume('burst', rules, t0)));
        expect(decisions.filter((d) => d.allowed)).to.have.length(6);
      });
    });

    describe('keys', () => {
      it('gives each key its own budget', async () => {
        const rules = [{ limit: 2, windowMs: MINUTE }];
        await consumeTimes('a', rules, 3, t0);
        expect((await limiter.consume('a', rules, t0)).allowed).to.equal(false);
        expect(await limiter.consume('b', rules, t0)).to.include({ allowed: true, remaining: 1 });
        const concurrent = await Promise.all(['c', 'd', 'c', 'd', 'c', 'd'].map((key) => limiter.consume(key, rules, t0)));
        expect(concurrent.map((d) => d.allowed)).to.deep.equal([true, true, true, true, false, false]);
      });

      it('keeps the same key’s windows of different lengths apart', async () => {
        await consumeTimes('k', [{ limit: 2, windowMs: MINUTE }], 2, t0);
        expect((await limiter.consume('k', [{ limit: 2, windowMs: MINUTE }], t0)).allowed).to.equal(false);
        expect((await limiter.consume('k', [{ limit: 2, windowMs: HOUR }], t0)).allowed).to.equal(true);
      });

      it('takes any string as a key', async () => {
        const rules = [{ limit: 1, windowMs: MINUTE }];
        for (const key of ['ip:::1', 'client:{weird} key*', 'é/ü?#%', 'x'.repeat(300)]) {
          expect((await limiter.consume(key, rules, t0)).allowed, key).to.equal(true);
          expect((await limiter.consume(key, rules, t0)).allowed, key).to.equal(false);
        }
      });
    });

    describe('rules', () => {
      it('refuses no rules, an empty key, limits or windows that are not positive integers, and two rules of one window', async () => {
        for (const [key, rules] of [
          ['k', []],
          ['', [{ limit: 1, windowMs: MINUTE }]],
          ['k', [{ limit: 0, windowMs: MINUTE }]],
          ['k', [{ limit: 1.5, windowMs: MINUTE }]],
          ['k', [{ limit: 1, windowMs: 0 }]],
          ['k', [{ limit: 1, windowMs: Number.NaN }]],
          ['k', [{ limit: 1, windowMs: MINUTE }, { limit: 5, windowMs: MINUTE }]],
        ] as Array<[string, RateLimitRule[]]>) {
          let error: unknown;
          try {
            await limiter.consume(key, rules, t0);
          } catch (e) {
            error = e;
          }
          expect(error, JSON.stringify([key, rules])).to.be.instanceOf(RangeError);
        }
      });
    });
  });
}
