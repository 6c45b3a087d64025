// Structured JSON logs. Redaction is declared here once so that no call site
// can leak a credential by logging a whole object.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.AWS_SECRET_ACCESS_KEY', '*.AWS_SESSION_TOKEN'],
      censor: '[REDACTED]',
    },
  });
}
