// Where a webhook may send: never to loopback, private, link-local (cloud
// metadata at 169.254.169.254), carrier-grade NAT, unique-local or other
// special-purpose addresses, unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set.
// A URL is checked when it is registered and again at every connection,
// against the address actually connected to, so a name that resolves to a
// public address when registered and to a private one later (DNS
// rebinding) is refused too. The check at connection time is the worker's
// (worker/webhooks/guarded-lookup.ts).
import dns from 'node:dns';
import ipaddr from 'ipaddr.js';

export class RefusedReceiver extends Error {
  override name = 'RefusedReceiver';
  // What the host name resolved to (or why it did not), for the log only:
  // told to the caller it would map the internal network's names.
  readonly resolved: string | undefined;

  constructor(message: string, resolved?: string) {
    super(message);
    this.resolved = resolved;
  }
}

// IPv4-compatible IPv6 (::a.b.c.d, deprecated by RFC 4291), which ipaddr.js
// calls unicast: some stacks still route ::7f00:1 to 127.0.0.1.
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

// Why an address may not be sent to, or undefined if it may.
export function refusedAddress(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  if (range === 'unicast' && parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE))
    return `${address} is an IPv4-compatible IPv6 address`;
  return range === 'unicast' ? undefined : `${address} is a ${range} address`;
}

export function isIpLiteral(hostname: string): boolean {
  return ipaddr.isValid(hostname.replace(/^\[|\]$/g, ''));
}

const ALLOW_HINT = 'set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it';

// Resolves the URL's host and refuses it if any of its addresses is refused.
// An IP literal is named in the refusal (the caller wrote it); a host name's
// refusal is the same whether it did not resolve or resolved to a refused
// address, and never says to what.
export async function checkReceiver(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIpLiteral(host)) {
    const reason = refusedAddress(host);
    if (reason) throw new RefusedReceiver(`${reason}; ${ALLOW_HINT}`);
    return;
  }
  const refused = (resolved: string) =>
    new RefusedReceiver(
      `${url.hostname} does not resolve to an address webhooks may be sent to (a public one; loopback, ` +
        `private, link-local and other special-purpose addresses are refused); ${ALLOW_HINT}`,
      resolved,
    );
  let addresses: string[];
  try {
    addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch (error) {
    throw refused(`no address (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  for (const address of addresses) {
    const reason = refusedAddress(address);
    if (reason) throw refused(reason);
  }
}
