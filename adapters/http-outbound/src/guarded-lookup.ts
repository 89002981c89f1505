import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { OutboundRequestError } from '@blockyard/core';
import type { AddressPolicy } from './address-policy.js';

/** Resolves a hostname to every address it has (default: `dns.lookup` with `all: true`). */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: HostResolver = (hostname) => dns.lookup(hostname, { all: true });

/**
 * The `lookup` the agent's sockets connect with. It resolves the name once, refuses the
 * connection when any of its addresses is internal (unless `allowHosts` names the host or
 * covers the address), and hands the socket only those checked addresses: the address that
 * was checked is the address connected to, so a DNS answer that changes between a check and
 * the connect (rebinding) cannot slip through. TLS SNI and the Host header are untouched: the
 * socket still connects for the original hostname.
 */
export function guardedLookup(policy: AddressPolicy, resolve: HostResolver): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    resolve(hostname).then(
      (addresses) => {
        let result: LookupAddress[] | Error;
        try {
          result = checkedAddresses(policy, hostname, addresses, options.family);
        } catch (err) {
          result = err as Error;
        }
        if (result instanceof Error) callback(result, '');
        else if (options.all) callback(null, result);
        else callback(null, result[0]!.address, result[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

function checkedAddresses(policy: AddressPolicy, hostname: string, addresses: LookupAddress[], family: LookupOptions['family']): LookupAddress[] {
  if (!policy.allowsHostname(hostname)) {
    for (const { address } of addresses) {
      const reason = policy.blockedReason(address);
      if (reason) throw new OutboundRequestError('blocked_address', `request to ${hostname} blocked: it resolves to ${address} (${reason})`);
    }
  }
  const wanted = family === 4 || family === 'IPv4' ? 4 : family === 6 || family === 'IPv6' ? 6 : 0;
  const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
  if (usable.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
  return usable;
}
