// RFC 7240 `Prefer: wait=N`: how long a client is willing to wait for the job.
export const MAX_WAIT_SECONDS = 300;

// Returns the seconds to wait, capped, or undefined when the client did not
// ask. Preferences that cannot be understood are ignored, as RFC 7240 says.
export function preferredWait(header: string | undefined): number | undefined {
  if (!header) return undefined;
  for (const preference of header.split(',')) {
    const [token] = preference.split(';');
    const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*$/i.exec(token ?? '');
    if (match?.[1]) return Math.min(Number(match[1]), MAX_WAIT_SECONDS);
  }
  return undefined;
}
