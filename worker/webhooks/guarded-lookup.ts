// The webhook receiver policy (core/events/receiver-address.ts) at
// connection time: a `lookup` that refuses the addresses the policy refuses,
// so a name that resolved to a public address when the webhook was
// registered and resolves to a private one now (DNS rebinding) is refused.
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { RefusedReceiver, refusedAddress } from '../../core/events/receiver-address.ts';

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
          if (reason)
            return callback(
              Object.assign(new RefusedReceiver(`${hostname} resolves to ${reason}`), { code: 'ERECEIVERREFUSED' }),
              '',
            );
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
      callback(null, first.address, first.family);
    });
  };
}
