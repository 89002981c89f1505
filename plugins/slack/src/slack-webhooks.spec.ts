import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import type { WebhookDelivery } from '@blockyard/plugin-sdk';
import { slackEvents, slackUrlVerificationChallenge, slackWebhooks } from './slack-webhooks.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

/** A delivery as Slack sends it: signed at `timestamp` (default now) with `secret`. */
function deliveryFixture(body: unknown, options: { secret?: string; timestamp?: number; rawBody?: string; headers?: Record<string, string> } = {}): WebhookDelivery {
  const raw = options.rawBody ?? JSON.stringify(body);
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = 'v0=' + createHmac('sha256', options.secret ?? SECRET).update(`v0:${timestamp}:${raw}`).digest('hex');
  return {
    headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature, ...options.headers },
    rawBody: Buffer.from(raw),
    body,
  };
}

const callback = {
  token: 'XXYYZZ',
  team_id: 'T123ABC456',
  api_app_id: 'A123ABC456',
  type: 'event_callback',
  event_id: 'Ev123ABC456',
  event_time: 1515449522,
  event: { type: 'message', channel: 'C1', user: 'U1', text: 'hello', ts: '1515449522.000016' },
};

describe('slack webhooks', () => {
  describe('verify', () => {
    it("accepts Slack's documented example request", () => {
      // https://api.slack.com/authentication/verifying-requests-from-slack (a slash command, signed at 1531420618)
      const raw =
        'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
      const delivery: WebhookDelivery = {
        headers: { 'x-slack-request-timestamp': '1531420618', 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' },
        rawBody: Buffer.from(raw),
        body: {},
      };
      const realNow = Date.now;
      Date.now = () => 1531420618_000 + 10_000;
      try {
        expect(slackWebhooks.verify(delivery, SECRET)).to.equal(true);
      } finally {
        Date.now = realNow;
      }
    });

    it('accepts a freshly signed delivery', () => {
      expect(slackWebhooks.verify(deliveryFixture(callback), SECRET)).to.equal(true);
    });

    it('rejects a tampered body', () => {
      const delivery = deliveryFixture(callback);
      delivery.rawBody = Buffer.from(delivery.rawBody.toString().replace('hello', 'hellO'));
      expect(slackWebhooks.verify(delivery, SECRET)).to.equal(false);
    });

    it('rejects a signature made with another secret', () => {
      expect(slackWebhooks.verify(deliveryFixture(callback, { secret: 'another-secret' }), SECRET)).to.equal(false);
    });

    it('rejects a delivery missing the signature or the timestamp header', () => {
      const noSignature = deliveryFixture(callback);
      delete noSignature.headers['x-slack-signature'];
      expect(slackWebhooks.verify(noSignature, SECRET)).to.equal(false);
      const noTimestamp = deliveryFixture(callback);
      delete noTimestamp.headers['x-slack-request-timestamp'];
      expect(slackWebhooks.verify(noTimestamp, SECRET)).to.equal(false);
    });

    it('rejects a stale timestamp (a replay) although correctly signed', () => {
      const now = Math.floor(Date.now() / 1000);
      expect(slackWebhooks.verify(deliveryFixture(callback, { timestamp: now - 290 }), SECRET)).to.equal(true);
      expect(slackWebhooks.verify(deliveryFixture(callback, { timestamp: now - 6 * 60 }), SECRET)).to.equal(false);
      expect(slackWebhooks.verify(deliveryFixture(callback, { timestamp: now + 6 * 60 }), SECRET)).to.equal(false);
    });

    it('rejects a timestamp that is not a number, and an empty secret', () => {
      const delivery = deliveryFixture(callback);
      expect(slackWebhooks.verify({ ...delivery, headers: { ...delivery.headers, 'x-slack-request-timestamp': `${delivery.headers['x-slack-request-timestamp']}.5` } }, SECRET)).to.equal(false);
      expect(slackWebhooks.verify(deliveryFixture(callback, { secret: '' }), '')).to.equal(false);
    });
  });

  describe('events', () => {
    it('is the event of an event_callback, typed by event.type, with event_id as its delivery id', () => {
      expect(slackEvents(deliveryFixture(callback))).to.deep.equal([{ type: 'message', payload: callback, deliveryId: 'Ev123ABC456' }]);
      const mention = { ...callback, event: { ...callback.event, type: 'app_mention' } };
      expect(slackEvents(deliveryFixture(mention))[0]!.type).to.equal('app_mention');
    });

    it('parses the raw body when the server did not', () => {
      expect(slackEvents(deliveryFixture(undefined, { rawBody: JSON.stringify(callback) }))[0]!.payload).to.deep.equal(callback);
    });

    it('is empty for url_verification, app_rate_limited and bodies that are not events', () => {
      expect(slackEvents(deliveryFixture({ token: 'x', challenge: 'abc', type: 'url_verification' }))).to.deep.equal([]);
      expect(slackEvents(deliveryFixture({ token: 'x', type: 'app_rate_limited', team_id: 'T1', minute_rate_limited: 1518467820, api_app_id: 'A1' }))).to.deep.equal([]);
      expect(slackEvents(deliveryFixture(undefined, { rawBody: 'not json' }))).to.deep.equal([]);
    });
  });

  describe('slackUrlVerificationChallenge', () => {
    it('is the challenge of a url_verification delivery, null otherwise', () => {
      const challenge = '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P';
      expect(slackUrlVerificationChallenge(deliveryFixture({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' }))).to.equal(challenge);
      expect(slackUrlVerificationChallenge(deliveryFixture(callback))).to.equal(null);
    });

    it('is the handshake answer of the manager: { challenge } for url_verification, null for events', () => {
      const challenge = '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P';
      expect(slackWebhooks.handshake!(deliveryFixture({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' }))).to.deep.equal({ body: { challenge } });
      expect(slackWebhooks.handshake!(deliveryFixture(callback))).to.equal(null);
    });
  });
});
