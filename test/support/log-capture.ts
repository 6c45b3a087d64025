// Logs kept as text, for tests that look for what must never be logged, or
// wait for what must be.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export function captureLogs(): {
  logger(): Logger;
  text(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
} {
  let logs = '';
  const waiters = new Set<() => void>();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs += chunk.toString();
      for (const wake of waiters) wake();
      done();
    },
  });
  // Resolves with the first log line that matches, once it is written.
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const line = logs.split('\n').find((l) => pattern.test(l));
        if (line === undefined) return;
        waiters.delete(look);
        clearTimeout(timer);
        resolve(line);
      };
      const timer = setTimeout(() => {
        waiters.delete(look);
        reject(new Error(`no log line matched ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(look);
      look();
    });
  return { logger: () => pino({ level: 'trace' }, sink), text: () => logs, waitFor };
}
