import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { defineWebhookManager, hmacSha256Hex, safeEqual } from './webhooks.js';

describe('plugin SDK webhooks', () => {
  describe('hmacSha256Hex', () => {
    it('is the hex HMAC-SHA256 of the data', () => {
      expect(hmacSha256Hex('secret', 'body')).to.equal(createHmac('sha256', 'secret').update('body').digest('hex'));
      expect(hmacSha256Hex('secret', Buffer.from('body'))).to.equal(hmacSha256Hex('secret', 'body'));
    });

    it("matches GitHub's documented example signature", () => {
      // https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
      expect(hmacSha256Hex("It's a Secret to Everybody", 'Hello, World!')).to.equal('757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
    });
  });

  describe('safeEqual', () => {
    it('compares strings, also of different lengths', () => {
      expect(safeEqual('sha256=ab', 'sha256=ab')).to.equal(true);
      expect(safeEqual('sha256=ab', 'sha256=ac')).to.equal(false);
      expect(safeEqual('sha256=ab', 'sha256=abc')).to.equal(false);
    });
  });

  describe('defineWebhookManager', () => {
    it('returns a manager that has verify and events', () => {
      const manager = { verify: () => true, events: () => [] };
      expect(defineWebhookManager(manager)).to.equal(manager);
    });

    it('rejects a manager without verify or events', () => {
      expect(() => defineWebhookManager({ verify: () => true } as never)).to.throw(TypeError, 'needs verify() and events()');
    });
  });
});
