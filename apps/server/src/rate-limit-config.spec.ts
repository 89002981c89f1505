import { expect } from 'chai';
import { DEFAULT_RATE_LIMIT_POLICY } from '@blockyard/core';
import { ConfigError, readConfig } from './config.js';
import { describeRateLimitPolicy, parseRateLimitRules } from './rate-limit-config.js';
import { describeRateLimits } from './rate-limits.js';

describe('rate limit configuration', () => {
  describe('readConfig', () => {
    it('has the guide’s limits on by default, in memory for one process and on Redis with the shared queue', () => {
      expect(readConfig({}).rateLimits).to.deep.equal({ enabled: true, store: 'memory', policy: DEFAULT_RATE_LIMIT_POLICY });
      expect(readConfig({ BLOCKYARD_QUEUE: 'bullmq' }).rateLimits.store).to.equal('redis');
      expect(readConfig({ BLOCKYARD_QUEUE: 'bullmq', BLOCKYARD_RATE_LIMIT_STORE: 'memory' }).rateLimits.store).to.equal('memory');
      expect(readConfig({ BLOCKYARD_RATE_LIMIT_STORE: ' Redis ' }).rateLimits.store).to.equal('redis');
    });

    it('turns limits off with BLOCKYARD_RATE_LIMITS=off (or false, 0) and on with on, true, 1', () => {
      for (const off of ['off', 'OFF', 'false', '0']) expect(readConfig({ BLOCKYARD_RATE_LIMITS: off }).rateLimits.enabled, off).to.equal(false);
      for (const on of ['on', 'true', '1', ' ']) expect(readConfig({ BLOCKYARD_RATE_LIMITS: on }).rateLimits.enabled, on).to.equal(true);
    });

    it('overrides each class with BLOCKYARD_RATE_LIMIT_<CLASS>, keeping the others', () => {
      const { policy } = readConfig({ BLOCKYARD_RATE_LIMIT_EXECUTE: '5/min, 50/h', BLOCKYARD_RATE_LIMIT_READ: '3/2s', BLOCKYARD_RATE_LIMIT_WRITE: 'off' }).rateLimits;
      expect(policy).to.deep.equal({
        oauth: DEFAULT_RATE_LIMIT_POLICY.oauth,
        execute: [
          { limit: 5, windowMs: 60_000 },
          { limit: 50, windowMs: 3_600_000 },
        ],
        read: [{ limit: 3, windowMs: 2000 }],
        write: [],
      });
    });

    it('names every bad rate limit variable at once', () => {
      let error: unknown;
      try {
        readConfig({ BLOCKYARD_RATE_LIMITS: 'sometimes', BLOCKYARD_RATE_LIMIT_STORE: 'postgres', BLOCKYARD_RATE_LIMIT_OAUTH: '20 per minute', BLOCKYARD_RATE_LIMIT_EXECUTE: '0/min' });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).problems).to.deep.equal([
        'BLOCKYARD_RATE_LIMITS must be on or off (got "sometimes")',
        'BLOCKYARD_RATE_LIMIT_STORE must be one of memory, redis (got "postgres")',
        'BLOCKYARD_RATE_LIMIT_OAUTH: "20 per minute" is not <limit>/<window> (10/min, 100/h, 5/30s, off)',
        'BLOCKYARD_RATE_LIMIT_EXECUTE: "0/min": the limit must be from 1 to 1000000000',
      ]);
    });
  });

  describe('parseRateLimitRules', () => {
    it('reads a limit per window in ms, s, min, h or d, with an optional count of units', () => {
      expect(parseRateLimitRules('10/min,100/h')).to.deep.equal([
        { limit: 10, windowMs: 60_000 },
        { limit: 100, windowMs: 3_600_000 },
      ]);
      expect(parseRateLimitRules(' 5 / 30s ')).to.deep.equal([{ limit: 5, windowMs: 30_000 }]);
      expect(parseRateLimitRules('7/1500ms,1000/1d,20/minute,3/2hours')).to.deep.equal([
        { limit: 7, windowMs: 1500 },
        { limit: 1000, windowMs: 86_400_000 },
        { limit: 20, windowMs: 60_000 },
        { limit: 3, windowMs: 7_200_000 },
      ]);
      expect(parseRateLimitRules('off')).to.deep.equal([]);
      expect(parseRateLimitRules('None')).to.deep.equal([]);
    });

    it('refuses what is not a rule, zero, windows over 7 days and two rules of one window', () => {
      for (const [raw, problem] of [
        ['10', /is not <limit>\/<window>/],
        ['10/fortnight', /is not <limit>\/<window>/],
        ['-1/min', /is not <limit>\/<window>/],
        ['', /is not <limit>\/<window>/],
        ['10/min,', /is not <limit>\/<window>/],
        ['0/min', /the limit must be from 1/],
        ['5/0s', /the window must be from 1 ms to 7 days/],
        ['5/8d', /the window must be from 1 ms to 7 days/],
        ['10/min,20/60s', /two rules for the same window/],
      ] as const) {
        const parsed = parseRateLimitRules(raw);
        expect(parsed, raw).to.have.property('problem').that.matches(problem);
      }
    });
  });

  describe('describeRateLimits', () => {
    it('says off, or the store and each class’s rules in the variables’ notation', () => {
      expect(describeRateLimits(readConfig({ BLOCKYARD_RATE_LIMITS: 'off' }))).to.equal('off');
      expect(describeRateLimits(readConfig({}))).to.equal('memory: oauth 30/min; execute 10/min,100/h; read 60/min,1000/h; write 30/min,500/h');
      expect(describeRateLimitPolicy({ ...DEFAULT_RATE_LIMIT_POLICY, read: [{ limit: 3, windowMs: 2500 }], write: [] })).to.contain('read 3/2500ms; write off');
    });
  });
});
