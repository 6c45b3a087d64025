// A receiver's Retry-After header, read by the sender (sender.ts) and
// honoured by the retry schedule (core/events/retry-schedule.ts's retryDelay).
// Retry-After: seconds, or an HTTP date (RFC 9110 §10.2.3); undefined if neither.
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
