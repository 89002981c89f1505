import { expect } from 'chai';
import { handlers, webhooks } from './index.js';
import { readManifest } from '@blockyard/plugin-sdk/testing';

const manifest = readManifest(new URL('../blockyard.plugin.json', import.meta.url));

describe('slack plugin', () => {
  it('exports one handler per manifest block, and no other', () => {
    expect(Object.keys(handlers).sort()).to.deep.equal(manifest.blocks.map((b) => b.id).sort());
  });

  it('exports the webhook manager of the slack provider (manual mode: no register)', () => {
    expect(Object.keys(webhooks)).to.deep.equal(['slack']);
    expect(webhooks.slack!.verify).to.be.a('function');
    expect(webhooks.slack!.register).to.equal(undefined);
  });

});
