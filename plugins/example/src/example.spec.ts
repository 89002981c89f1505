import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { BlockContext } from '@blockyard/plugin-sdk';
import { hmacSha256Hex } from '@blockyard/plugin-sdk';
import { echo, handlers, sleepBlock, trigger, webhooks } from './index.js';

const manifest = JSON.parse(readFileSync(new URL('../blockyard.plugin.json', import.meta.url), 'utf8')) as { blocks: Array<{ id: string }> };

function contextFixture(signal = new AbortController().signal): BlockContext {
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  return { executionId: 'spec', blockId: 'spec', signal, logger, addCost() {}, credentials: null, fetch: () => Promise.reject(new Error('no fetch in this spec')) };
}

async function collect(iterable: unknown): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of iterable as AsyncIterable<unknown>) out.push(item);
  return out;
}

describe('example plugin', () => {
  it('exports one handler per manifest block, and no other', () => {
    expect(Object.keys(handlers).sort()).to.deep.equal(manifest.blocks.map((b) => b.id).sort());
  });

  describe('example.echo', () => {
    it('yields its text', async () => {
      expect(await collect(echo({ text: 'hi' }, contextFixture()))).to.deep.equal([['text', 'hi']]);
    });
  });

  describe('example.sleep', () => {
    it('yields slept_ms after sleeping', async () => {
      expect(await collect(sleepBlock({ ms: 10 }, contextFixture()))).to.deep.equal([['slept_ms', 10]]);
    });

    it('stops at once when its signal aborts', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('cancelled')), 20);
      const t0 = Date.now();
      let error: unknown;
      await collect(sleepBlock({ ms: 60_000 }, contextFixture(controller.signal))).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.equal('cancelled');
      expect(Date.now() - t0).to.be.below(1000);
    });
  });

  describe('example.trigger', () => {
    it('yields the payload as event_data', async () => {
      expect(await collect(trigger({ payload: { a: 1 } }, contextFixture()))).to.deep.equal([['event_data', { a: 1 }]]);
    });
  });

  describe('webhooks.example', () => {
    const rawBody = Buffer.from(JSON.stringify({ webhook_type: 'another_example_event', id: 7 }));
    const delivery = (signature: string | undefined) => ({ headers: { ...(signature ? { 'x-example-signature': signature } : {}), 'x-example-delivery': 'd-7' }, rawBody, body: JSON.parse(rawBody.toString()) });

    it('accepts a delivery signed with the webhook secret, and nothing else', () => {
      expect(webhooks.example.verify(delivery(`sha256=${hmacSha256Hex('s3cret', rawBody)}`), 's3cret')).to.equal(true);
      expect(webhooks.example.verify(delivery(`sha256=${hmacSha256Hex('other', rawBody)}`), 's3cret')).to.equal(false);
      expect(webhooks.example.verify(delivery(undefined), 's3cret')).to.equal(false);
    });

    it('reads the event type from webhook_type, example_event by default', () => {
      expect(webhooks.example.events(delivery(undefined))).to.deep.equal([{ type: 'another_example_event', payload: { webhook_type: 'another_example_event', id: 7 }, deliveryId: 'd-7' }]);
      expect(webhooks.example.events({ headers: {}, rawBody: Buffer.from('{}'), body: {} })[0]!.type).to.equal('example_event');
    });
  });
});
