import { expect } from 'chai';
import { handlers, webhooks } from './index.js';
import { readManifest } from '@blockyard/plugin-sdk/testing';

const manifest = readManifest(new URL('../blockyard.plugin.json', import.meta.url));

describe('github plugin', () => {
  it('exports one handler per manifest block, and no other', () => {
    expect(Object.keys(handlers).sort()).to.deep.equal(manifest.blocks.map((b) => b.id).sort());
  });

  it('exports the webhook manager of the github provider', () => {
    expect(Object.keys(webhooks)).to.deep.equal(['github']);
    expect(webhooks.github!.verify).to.be.a('function');
    expect(webhooks.github!.register).to.be.a('function');
    expect(webhooks.github!.deregister).to.be.a('function');
  });

});
