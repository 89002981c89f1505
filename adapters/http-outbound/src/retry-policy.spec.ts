import { expect } from 'chai';
import { isIdempotent, isRetryableStatus, parseRetryAfter, retryDelayMs } from './retry-policy.js';

describe('retry policy', () => {
  describe('isIdempotent', () => {
    it('is true for GET, HEAD, OPTIONS, PUT and DELETE only', () => {
      expect(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'].every(isIdempotent)).to.equal(true);
      expect(['POST', 'PATCH'].some(isIdempotent)).to.equal(false);
    });
  });

  describe('isRetryableStatus', () => {
    it('is true for 429 and 5xx', () => {
      expect([429, 500, 502, 503, 504, 599].every(isRetryableStatus)).to.equal(true);
      expect([200, 301, 400, 404, 409, 428].some(isRetryableStatus)).to.equal(false);
    });
  });

  describe('parseRetryAfter', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');

    it('reads delay-seconds', () => {
      expect(parseRetryAfter('120', now)).to.equal(120_000);
      expect(parseRetryAfter(' 0 ', now)).to.equal(0);
    });

    it('reads an HTTP date, never negative', () => {
      expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).to.equal(30_000);
      expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).to.equal(0);
    });

    it('ignores what it cannot read', () => {
      expect(parseRetryAfter(undefined, now)).to.equal(null);
      expect(parseRetryAfter('soon', now)).to.equal(null);
      expect(parseRetryAfter('-5', now)).to.equal(null);
    });
  });

  describe('retryDelayMs', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 1000 };

    it('doubles per retry, jittered within the upper half', () => {
      expect([1, 2, 3].map((n) => retryDelayMs(n, undefined, options, () => 0))).to.deep.equal([50, 100, 200]);
      expect([1, 2, 3].map((n) => retryDelayMs(n, undefined, options, () => 1))).to.deep.equal([100, 200, 400]);
    });

    it('caps the backoff at maxDelayMs', () => {
      expect(retryDelayMs(10, undefined, options, () => 1)).to.equal(1000);
    });

    it('follows Retry-After, capped at maxDelayMs', () => {
      expect(retryDelayMs(1, '0', options)).to.equal(0);
      expect(retryDelayMs(1, '3600', options)).to.equal(1000);
      const now = Date.now();
      expect(retryDelayMs(1, new Date(now + 600_000).toUTCString(), options, Math.random, now)).to.equal(1000);
    });
  });
});
