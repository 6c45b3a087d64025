// Sends one delivery request: at most DELIVERY_TIMEOUT_MS from connecting to
// the end of the response, redirects never followed, and only to a receiver
// address the policy allows (checked against the address connected to).
// The answer says what to do next; nothing is thrown.
import http from 'node:http';
import https from 'node:https';
import type { DeliveryRequest } from './delivery-request.ts';
import { isIpLiteral, refusedAddress } from '../../core/events/receiver-address.ts';
import { guardedLookup } from './guarded-lookup.ts';
import { parseRetryAfter } from './retry-after.ts';

export const DELIVERY_TIMEOUT_MS = 5_000;

// Connections are kept open for the next delivery to the same receiver (its
// address was checked when each was opened), and closed after 4 s idle,
// before the 5 s after which Node.js servers close theirs.
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 64, timeout: 4_000 };
const agents = { 'http:': new http.Agent(AGENT_OPTIONS), 'https:': new https.Agent(AGENT_OPTIONS) };

export type Attempt = {
  // delivered: 2xx. retry: a timeout, a connection failure, 408, 429 or 5xx.
  // gone: 410, the receiver asks never to be sent to again. rejected: any
  // other answer (a redirect, a 4xx), or an address the policy refuses.
  outcome: 'delivered' | 'retry' | 'gone' | 'rejected';
  statusCode: number | null;
  durationMs: number;
  error?: string;
  // Why the receiver's address was refused (what its name resolved to), for
  // the worker's log only: told to a reader of the delivery it would map the
  // internal network's names.
  refusal?: string;
  retryAfterMs?: number;
};

const REFUSED = "refused: the receiver's address is not allowed; webhooks are sent only to public addresses";

export async function sendDelivery(
  request: DeliveryRequest,
  options: { allowPrivateNetworks: boolean; timeoutMs?: number },
): Promise<Attempt> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  const url = new URL(request.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivateNetworks && isIpLiteral(host)) {
    const reason = refusedAddress(host);
    if (reason) return { outcome: 'rejected', statusCode: null, durationMs: took(), error: REFUSED, refusal: reason };
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<Attempt>((resolve) => {
    let settled = false;
    // A connection whose answer was read whole goes back to the pool; any
    // other is closed.
    const finish = (attempt: Attempt, complete = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!complete) req.destroy();
      resolve(attempt);
    };
    const req = client.request(
      url,
      {
        method: request.method,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        lookup: guardedLookup(options.allowPrivateNetworks) as never,
        agent: agents[url.protocol === 'https:' ? 'https:' : 'http:'],
      },
      (res) => {
        // The answer's body is read (within the timeout) and dropped.
        res.resume();
        const done = () => {
          const status = res.statusCode ?? 0;
          const base = { statusCode: status, durationMs: took() };
          if (status >= 200 && status < 300) return finish({ ...base, outcome: 'delivered' }, true);
          if (status === 410)
            return finish({ ...base, outcome: 'gone', error: 'the receiver answered 410 Gone' }, true);
          if (status === 408 || status === 429 || status >= 500) {
            const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
            return finish(
              {
                ...base,
                outcome: 'retry',
                error: `the receiver answered ${status}`,
                ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
              },
              true,
            );
          }
          if (status >= 300 && status < 400)
            return finish(
              {
                ...base,
                outcome: 'rejected',
                error: `the receiver answered ${status}, a redirect; redirects are not followed`,
              },
              true,
            );
          finish({ ...base, outcome: 'rejected', error: `the receiver answered ${status}` }, true);
        };
        res.on('end', done);
        // Cut off mid-answer: whatever the status said, it may not have been
        // the receiver's last word, so the delivery is tried again.
        const cut = () =>
          finish({
            outcome: 'retry',
            statusCode: res.statusCode ?? null,
            durationMs: took(),
            error: 'the connection closed before the answer was complete',
          });
        res.on('close', () => (res.complete ? done() : cut()));
        res.on('error', cut);
      },
    );
    const timer = setTimeout(
      () =>
        finish({
          outcome: 'retry',
          statusCode: null,
          durationMs: took(),
          error: `no answer within ${(options.timeoutMs ?? DELIVERY_TIMEOUT_MS) / 1000} s`,
        }),
      options.timeoutMs ?? DELIVERY_TIMEOUT_MS,
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ERECEIVERREFUSED')
        return finish({
          outcome: 'rejected',
          statusCode: null,
          durationMs: took(),
          error: REFUSED,
          refusal: error.message,
        });
      finish({
        outcome: 'retry',
        statusCode: null,
        durationMs: took(),
        error: `could not reach the receiver: ${error.code ?? error.message}`,
      });
    });
    req.end(request.body);
  });
}
