import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { CLIENT_WEBHOOK_DELIVERY_ID_PREFIX, clientWebhookDeliveryId } from './client-webhook-delivery.js';

describe('clientWebhookDeliveryId', () => {
  it('is msg_ and the first 32 hex characters of SHA-256("<client>\\n<url>\\n<event key>"), the same on every call', () => {
    for (const [clientId, url, eventKey] of [
      ['app_1', 'https://hooks.example.com/in', 'execution.started:exec-1'],
      ['app_ü', 'https://hooks.example.com/in?é=1', 'grant.revoked:grant-∆'],
      ['', '', ''],
    ] as const) {
      const id = clientWebhookDeliveryId(clientId, url, eventKey);
      expect(id).to.equal(CLIENT_WEBHOOK_DELIVERY_ID_PREFIX + createHash('sha256').update(`${clientId}\n${url}\n${eventKey}`).digest('hex').slice(0, 32));
      expect(id).to.match(/^msg_[0-9a-f]{32}$/);
      expect(clientWebhookDeliveryId(clientId, url, eventKey)).to.equal(id);
    }
  });

  it('differs when the client, the URL or the event key does', () => {
    const ids = new Set([
      clientWebhookDeliveryId('app_1', 'https://a.example.com/in', 'execution.started:x'),
      clientWebhookDeliveryId('app_2', 'https://a.example.com/in', 'execution.started:x'),
      clientWebhookDeliveryId('app_1', 'https://b.example.com/in', 'execution.started:x'),
      clientWebhookDeliveryId('app_1', 'https://a.example.com/in', 'execution.completed:x'),
    ]);
    expect(ids.size).to.equal(4);
  });
});
