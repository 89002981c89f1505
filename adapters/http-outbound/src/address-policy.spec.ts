import { expect } from 'chai';
import { AddressPolicy } from './address-policy.js';

describe('AddressPolicy', () => {
  describe('blockedReason', () => {
    const policy = new AddressPolicy();
    const internal: Record<string, string> = {
      '127.0.0.1': 'loopback',
      '127.255.255.254': 'loopback',
      '::1': 'loopback',
      '10.0.0.1': 'private',
      '172.16.0.1': 'private',
      '172.31.255.255': 'private',
      '192.168.1.1': 'private',
      'fc00::1': 'unique-local',
      'fd12:3456::1': 'unique-local',
      '169.254.169.254': 'link-local',
      'fe80::1': 'link-local',
      'febf::1': 'link-local',
      '0.0.0.0': 'unspecified',
      '::': 'unspecified',
      '100.64.0.1': 'carrier-grade NAT',
      '100.127.255.255': 'carrier-grade NAT',
      '::ffff:127.0.0.1': 'loopback',
      '::ffff:7f00:1': 'loopback',
      '::ffff:10.0.0.1': 'private',
      '::ffff:169.254.169.254': 'link-local',
      '::ffff:0.0.0.0': 'unspecified',
      '::ffff:100.64.0.1': 'carrier-grade NAT',
      '0:0:0:0:0:ffff:c0a8:0101': 'private',
      '::127.0.0.1': 'loopback', // IPv4-compatible (deprecated)
      '::ffff:0:127.0.0.1': 'loopback', // IPv4-translated
      '64:ff9b::7f00:1': 'rfc6052 form of a loopback', // NAT64
      '2002:a9fe:a9fe::1': '6to4 form of a link-local',
      '224.0.0.1': 'multicast',
      'ff02::1': 'multicast',
      '255.255.255.255': 'broadcast',
      '240.0.0.1': 'reserved',
    };
    for (const [address, reason] of Object.entries(internal)) {
      it(`refuses ${address} (${reason})`, () => {
        expect(policy.blockedReason(address)).to.equal(reason);
      });
    }

    for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
      it(`allows the public address ${address}`, () => {
        expect(policy.blockedReason(address)).to.equal(null);
      });
    }

    it('refuses what is not an IP address', () => {
      expect(policy.blockedReason('example.com')).to.be.a('string');
    });
  });

  describe('allowHosts', () => {
    it('opens single addresses, also in their IPv4-mapped form', () => {
      const policy = new AddressPolicy(['127.0.0.1', '[::1]']);
      expect(policy.blockedReason('127.0.0.1')).to.equal(null);
      expect(policy.blockedReason('::ffff:127.0.0.1')).to.equal(null);
      expect(policy.blockedReason('::1')).to.equal(null);
      expect(policy.blockedReason('127.0.0.2')).to.equal('loopback');
    });

    it('opens CIDR ranges', () => {
      const policy = new AddressPolicy(['10.0.0.0/8', 'fd00::/8', '::ffff:192.168.0.0/112']);
      expect(policy.blockedReason('10.1.2.3')).to.equal(null);
      expect(policy.blockedReason('::ffff:10.1.2.3')).to.equal(null);
      expect(policy.blockedReason('fd00::5')).to.equal(null);
      expect(policy.blockedReason('192.168.4.5')).to.equal(null);
      expect(policy.blockedReason('11.0.0.1')).to.equal(null); // public anyway
      expect(policy.blockedReason('172.16.0.1')).to.equal('private');
      expect(policy.blockedReason('fc00::5')).to.equal('unique-local');
    });

    it('opens hostnames, case-insensitively and without their trailing dot', () => {
      const policy = new AddressPolicy(['LocalHost', 'internal.example.']);
      expect(policy.allowsHostname('localhost')).to.equal(true);
      expect(policy.allowsHostname('INTERNAL.example')).to.equal(true);
      expect(policy.allowsHostname('other.example')).to.equal(false);
      expect(policy.blockedReason('127.0.0.1')).to.equal('loopback'); // a name opens no address
    });

    it('refuses a malformed CIDR', () => {
      expect(() => new AddressPolicy(['10.0.0.0/40'])).to.throw(TypeError, /CIDR/);
    });
  });
});
