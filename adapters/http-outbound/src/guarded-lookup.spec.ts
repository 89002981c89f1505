import type { LookupAddress } from 'node:dns';
import { expect } from 'chai';
import { OutboundRequestError } from '@blockyard/core';
import { AddressPolicy } from './address-policy.js';
import { guardedLookup } from './guarded-lookup.js';

/** Calls the lookup as a socket would, without connecting anywhere. */
function lookUp(policy: AddressPolicy, answer: LookupAddress[], options: { all?: boolean; family?: number } = { all: true }): Promise<{ err: Error | null; address: string | LookupAddress[]; family?: number }> {
  const lookup = guardedLookup(policy, async () => answer);
  return new Promise((resolve) => lookup('api.test', options, (err, address, family) => resolve({ err, address, family })));
}

describe('guardedLookup', () => {
  const publicAddress = { address: '93.184.216.34', family: 4 };
  const metadata = { address: '169.254.169.254', family: 4 };

  it('hands over the checked addresses of a public name', async () => {
    const result = await lookUp(new AddressPolicy(), [publicAddress, { address: '2606:2800:220:1::1', family: 6 }]);
    expect(result.err).to.equal(null);
    expect(result.address).to.deep.equal([publicAddress, { address: '2606:2800:220:1::1', family: 6 }]);
  });

  it('answers one address when the socket asks for one', async () => {
    const result = await lookUp(new AddressPolicy(), [publicAddress], { family: 0 });
    expect(result).to.deep.equal({ err: null, address: '93.184.216.34', family: 4 });
  });

  it('refuses the name when any of its addresses is internal, naming host and address', async () => {
    const { err } = await lookUp(new AddressPolicy(), [publicAddress, metadata]);
    expect(err).to.be.instanceOf(OutboundRequestError);
    expect((err as OutboundRequestError).code).to.equal('blocked_address');
    expect(err!.message).to.equal('request to api.test blocked: it resolves to 169.254.169.254 (link-local)');
  });

  it('refuses IPv4-mapped internal answers', async () => {
    const { err } = await lookUp(new AddressPolicy(), [{ address: '::ffff:10.0.0.1', family: 6 }]);
    expect((err as OutboundRequestError).code).to.equal('blocked_address');
  });

  it('allows any address of a hostname named in allowHosts', async () => {
    const { err } = await lookUp(new AddressPolicy(['api.test']), [metadata]);
    expect(err).to.equal(null);
  });

  it('allows internal addresses covered by an allowHosts range', async () => {
    const { err, address } = await lookUp(new AddressPolicy(['169.254.0.0/16']), [metadata]);
    expect(err).to.equal(null);
    expect(address).to.deep.equal([metadata]);
  });

  it('keeps to the family the socket asks for', async () => {
    const v6 = { address: '2606:2800:220:1::1', family: 6 };
    expect((await lookUp(new AddressPolicy(), [publicAddress, v6], { all: true, family: 6 })).address).to.deep.equal([v6]);
    expect((await lookUp(new AddressPolicy(), [v6], { all: true, family: 4 })).err).to.have.property('code', 'ENOTFOUND');
  });
});
