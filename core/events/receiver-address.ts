// Where a webhook may send: never to loopback, private, link-local (cloud
// metadata at 169.254.169.254), carrier-grade NAT, unique-local or other
// special-purpose addresses, unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set.
// A URL is checked when it is registered and again at every connection,
// against the address actually connected to, so a name that resolves to a
// public address when registered and to a private one later (DNS
// rebinding) is refused too.
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

export class RefusedReceiver extends Error {
  override name = 'RefusedReceiver';
}

// Why an address may not be sent to, or undefined if it may.
export function refusedAddress(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  return range === 'unicast' ? undefined : `${address} is a ${range} address`;
}

export function isIpLiteral(hostname: string): boolean {
  return ipaddr.isValid(hostname.replace(/^\[|\]$/g, ''));
}

// Resolves the URL's host and refuses it if any of its addresses is refused.
export async function checkReceiver(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIpLiteral(host) ? [host] : (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  for (const address of addresses) {
    const reason = refusedAddress(address);
    if (reason) throw new RefusedReceiver(`${url.hostname} resolves to ${reason}; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

// A `lookup` for http.request / net.connect that refuses what checkReceiver
// refuses, at connection time.
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      if (!allowPrivate) {
        for (const { address } of addresses) {
          const reason = refusedAddress(address);
          if (reason) return callback(Object.assign(new RefusedReceiver(`${hostname} resolves to ${reason}`), { code: 'ERECEIVERREFUSED' }), '');
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
      callback(null, first.address, first.family);
    });
  };
}
