import { createHmac, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { clientWebhookSignatureHeaders, standardWebhooksKey, type ClientWebhookSigningInput } from './client-webhook-signature.js';

/** The headers as the guide and Standard Webhooks define them, computed from scratch. */
function expected(input: ClientWebhookSigningInput): Record<string, string> {
  const seconds = Math.floor(input.attemptAt.getTime() / 1000);
  const raw = Buffer.from(input.secret.slice('whsec_'.length), 'base64');
  return {
    'x-webhook-signature': `sha256=${createHmac('sha256', input.secret).update(input.body).digest('hex')}`,
    'x-webhook-timestamp': input.timestamp,
    'webhook-id': input.id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': `v1,${createHmac('sha256', raw).update(`${input.id}.${seconds}.${input.body}`).digest('base64')}`,
  };
}

const newSecret = (): string => 'whsec_' + randomBytes(32).toString('base64url');

describe('clientWebhookSignatureHeaders', () => {
  const attemptAt = new Date('2026-03-01T12:00:00.750Z');
  const base = { id: 'msg_0123456789abcdef0123456789abcdef', body: '{"event":"execution.started","data":{"ü":"é"}}', timestamp: '2026-03-01T11:59:59.000Z', attemptAt };

  it('signs both ways, keyed with the secret string (guide) and the bytes it encodes (Standard Webhooks)', () => {
    const input = { ...base, secret: 'whsec_' + Buffer.alloc(32, 0xfb).toString('base64url') }; // '-' and '_' in it
    expect(clientWebhookSignatureHeaders(input)).to.deep.equal(expected(input));
    expect(clientWebhookSignatureHeaders(input)['webhook-timestamp']).to.equal(String(Math.floor(attemptAt.getTime() / 1000)));
    expect(standardWebhooksKey(input.secret)).to.deep.equal(Buffer.alloc(32, 0xfb));
  });

  it('gives the same headers for the same input again, and new ones once the secret changes', () => {
    const first = { ...base, secret: newSecret() };
    const once = clientWebhookSignatureHeaders(first);
    expect(clientWebhookSignatureHeaders({ ...first })).to.deep.equal(once);
    const rotated = { ...first, secret: newSecret() };
    const after = clientWebhookSignatureHeaders(rotated);
    expect(after).to.deep.equal(expected(rotated));
    expect(after['x-webhook-signature']).not.to.equal(once['x-webhook-signature']);
    expect(after['webhook-signature']).not.to.equal(once['webhook-signature']);
    expect(clientWebhookSignatureHeaders(first)).to.deep.equal(once);
  });

  it('signs each body, id and attempt time apart with one secret', () => {
    const secret = newSecret();
    for (const input of [
      { ...base, secret },
      { ...base, secret, body: '{"event":"execution.completed"}' },
      { ...base, secret, id: 'msg_ffffffffffffffffffffffffffffffff' },
      { ...base, secret, attemptAt: new Date(attemptAt.getTime() + 5_000) },
    ]) {
      expect(clientWebhookSignatureHeaders(input)).to.deep.equal(expected(input));
    }
  });

  it('stays right for many secrets and for secrets of any form', () => {
    const secrets = Array.from({ length: 600 }, newSecret);
    for (const secret of [...secrets, ...secrets.slice(0, 10)]) expect(clientWebhookSignatureHeaders({ ...base, secret })).to.deep.equal(expected({ ...base, secret }));
    // no whsec_ prefix, empty, not UTF-8-clean: keyed as before (the string as UTF-8; the base64 it decodes to)
    for (const secret of ['plain-secret', '', 'whsec_', 'whsec_pässwörd', '\ud800x']) {
      const standard = createHmac('sha256', standardWebhooksKey(secret)).update(`${base.id}.${Math.floor(attemptAt.getTime() / 1000)}.${base.body}`).digest('base64');
      const headers = clientWebhookSignatureHeaders({ ...base, secret });
      expect(headers['x-webhook-signature']).to.equal(`sha256=${createHmac('sha256', secret).update(base.body).digest('hex')}`);
      expect(headers['webhook-signature']).to.equal(`v1,${standard}`);
    }
  });
});
