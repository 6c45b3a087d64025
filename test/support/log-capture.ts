// Logs kept as text, for tests that look for what must never be logged.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export function captureLogs(): { logger(): Logger; text(): string } {
  let logs = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  return { logger: () => pino({ level: 'trace' }, sink), text: () => logs };
}
