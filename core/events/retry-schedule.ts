// When a failed delivery is tried again: exponential backoff with jitter
// from the first delay up to a maximum, a receiver's Retry-After honoured,
// and attempts enough to go on retrying for the configured time (a day).
export type RetrySettings = { backoffMs: number; backoffMaxMs: number; retryForMs: number };

// The nominal delay before attempt `retry + 1` (retry 1 is the first retry).
function nominalDelay(settings: RetrySettings, retry: number): number {
  return Math.min(settings.backoffMaxMs, settings.backoffMs * 2 ** Math.min(Math.max(retry - 1, 0), 40));
}

// How many attempts in all, so that the retries span `retryForMs` on
// average (a jittered delay is three quarters of its nominal one on average).
export function attemptsFor(settings: RetrySettings): number {
  let total = 0;
  let retries = 0;
  while (total < settings.retryForMs) {
    retries += 1;
    total += 0.75 * nominalDelay(settings, retries);
  }
  return retries + 1;
}

// The delay before the next attempt after `retry` failed ones: "full
// jitter" between half and all of the nominal delay, so receivers coming
// back are not met by every sender at once; or what the receiver asked
// for with Retry-After, within the maximum.
export function retryDelay(
  settings: RetrySettings,
  retry: number,
  retryAfterMs: number | undefined,
  random = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), settings.backoffMaxMs);
  const nominal = nominalDelay(settings, retry);
  return Math.round(nominal / 2 + random() * (nominal / 2));
}
