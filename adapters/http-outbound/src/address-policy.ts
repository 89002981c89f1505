import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Which addresses outbound requests may reach: every public unicast address, and internal ones
 * (loopback, private, link-local, unspecified, CGNAT, multicast, reserved, and the IPv6 forms
 * that embed any of these) only when `allowHosts` opens them by hostname, IP or CIDR.
 */
export class AddressPolicy {
  readonly #hostnames = new Set<string>();
  readonly #ranges: Array<[Address, number]> = [];
  /** Literal IP -> reason it is blocked ('' when allowed). Pure function of the literal and the policy, so safe to cache. */
  readonly #literalCache = new Map<string, string>();

  constructor(allowHosts: readonly string[] = []) {
    for (const raw of allowHosts) {
      const entry = stripBrackets(raw.trim().toLowerCase());
      if (!entry) continue;
      const slash = entry.indexOf('/');
      if (slash > 0 && isIP(entry.slice(0, slash))) {
        if (!ipaddr.isValidCIDR(entry)) throw new TypeError(`allowHosts: invalid CIDR ${JSON.stringify(raw)}`);
        const [range, bits] = ipaddr.parseCIDR(entry);
        this.#ranges.push(normalizeRange(range, bits));
      } else if (isIP(entry)) {
        const address = ipaddr.parse(entry);
        this.#ranges.push(normalizeRange(address, address.kind() === 'ipv4' ? 32 : 128));
      } else {
        this.#hostnames.add(entry.replace(/\.$/, '')); // an exact name: no wildcards
      }
    }
  }

  /** True when `allowHosts` names this hostname: any address it resolves to may be used. */
  allowsHostname(hostname: string): boolean {
    return this.#hostnames.size > 0 && this.#hostnames.has(normalizeHostname(hostname));
  }

  /** Why `address` (an IP literal) may not be reached, or null when it may. */
  blockedReason(address: string): string | null {
    const cached = this.#literalCache.get(address);
    if (cached !== undefined) return cached || null;
    const reason = this.#classify(address);
    if (this.#literalCache.size >= 1024) this.#literalCache.clear();
    this.#literalCache.set(address, reason ?? '');
    return reason;
  }

  #classify(literal: string): string | null {
    let address: Address;
    try {
      address = ipaddr.parse(stripBrackets(literal));
    } catch {
      return 'not an IP address';
    }
    const reason = internalRange(address);
    if (reason === null) return null;
    const plain = unwrapIPv4(address) ?? address;
    for (const [range, bits] of this.#ranges) {
      if (range.kind() === plain.kind() && plain.match(range, bits)) return null;
    }
    return reason;
  }
}

/** ipaddr.js range names as a message says them; the others are said as they are ('loopback', 'private', 'multicast', ...). */
const RANGE_NAMES: Record<string, string> = {
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
  rfc6145: 'IPv4-translated',
};

/** The special-purpose range an address is in ('loopback', 'private', ...), or null for a public unicast address. */
export function internalRange(address: Address): string | null {
  const range = address.range();
  if (range === 'loopback' || range === 'unspecified') return range; // ::1 and ::, before they read as ::0.0.0.1 and ::0.0.0.0
  const embedded = unwrapIPv4(address);
  if (embedded) return internalRange(embedded);
  if (range === 'unicast') return null;
  if (address.kind() === 'ipv6' && (range === '6to4' || range === 'rfc6052')) {
    // Both carry a whole IPv4 address: 6to4 in bits 16-47, NAT64 in the last 32 bits.
    const parts = (address as ipaddr.IPv6).parts;
    const v4 = range === '6to4' ? [parts[1]! >> 8, parts[1]! & 0xff, parts[2]! >> 8, parts[2]! & 0xff] : [parts[6]! >> 8, parts[6]! & 0xff, parts[7]! >> 8, parts[7]! & 0xff];
    const inner = internalRange(new ipaddr.IPv4(v4));
    return inner === null ? null : `${range} form of a ${inner}`;
  }
  return RANGE_NAMES[range] ?? range;
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d) or IPv4-compatible (::a.b.c.d) IPv6 address. */
function unwrapIPv4(address: Address): ipaddr.IPv4 | null {
  if (address.kind() !== 'ipv6') return null;
  const parts = (address as ipaddr.IPv6).parts;
  const mapped = parts[0] === 0 && parts[1] === 0 && parts[2] === 0 && parts[3] === 0 && ((parts[4] === 0 && (parts[5] === 0xffff || parts[5] === 0)) || (parts[4] === 0xffff && parts[5] === 0));
  if (!mapped) return null;
  return new ipaddr.IPv4([parts[6]! >> 8, parts[6]! & 0xff, parts[7]! >> 8, parts[7]! & 0xff]);
}

function normalizeRange(address: Address, bits: number): [Address, number] {
  const embedded = unwrapIPv4(address);
  if (embedded && bits >= 96) return [embedded, bits - 96];
  return [address, bits];
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function normalizeHostname(hostname: string): string {
  return stripBrackets(hostname.toLowerCase()).replace(/\.$/, '');
}
