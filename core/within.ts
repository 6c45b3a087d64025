// Waiting for a promise with a deadline, for the places where something
// outside our control (Redis, a child process) may never answer.
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

// Resolves with `promise`'s value, or rejects with a TimeoutError after `ms`.
export async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
