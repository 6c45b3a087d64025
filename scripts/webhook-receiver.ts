// `npm run receiver`: an example receiver of tfcompute's webhooks, to run as
// it is or to copy. It
//   - verifies the Standard Webhooks signature and timestamp (with the
//     `standardwebhooks` package: a request older or newer than 5 minutes,
//     or signed with another secret, is answered 401 and not processed);
//   - processes each event once: a delivery is at least once, so the same
//     `webhook-id` may come again (a retry, a redelivery), and is then
//     answered 200 without processing it again;
//   - answers at once, and processes after (slow work belongs in a queue).
// Here, processing is printing one JSON line per event. Events can arrive
// out of order: `sequence` orders a stack's events.
//
// Settings: WEBHOOK_SECRET (the "whsec_..." secret the webhook was given;
// during a rotation, both, separated by a space), PORT (default 9000),
// HOST (default 127.0.0.1).
import { createServer } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

const secrets = (process.env.WEBHOOK_SECRET ?? '').split(/\s+/).filter(Boolean);
if (secrets.length === 0) {
  process.stderr.write('webhook-receiver: set WEBHOOK_SECRET to the secret POST /api/webhooks answered with\n');
  process.exit(2);
}
const verifiers = secrets.map((secret) => new Webhook(secret));
const port = Number(process.env.PORT ?? 9000);
const host = process.env.HOST ?? '127.0.0.1';
const MAX_BODY = 1024 * 1024;

// webhook-ids seen in the last day (longer than tfcompute retries), oldest first.
const DEDUPE_MS = 25 * 3_600_000;
const seen = new Map<string, number>();
function firstTime(id: string, now: number): boolean {
  for (const [old, at] of seen) {
    if (now - at < DEDUPE_MS) break;
    seen.delete(old);
  }
  if (seen.has(id)) return false;
  seen.set(id, now);
  return true;
}

type CloudEvent = { id: string; type: string; subject: string; sequence: string; time: string; data: unknown };

function verified(body: string, headers: Record<string, string>): CloudEvent {
  let lastError: unknown;
  for (const verifier of verifiers) {
    try {
      return verifier.verify(body, headers) as CloudEvent;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function processEvent(event: CloudEvent): void {
  process.stdout.write(
    `${JSON.stringify({ id: event.id, type: event.type, subject: event.subject, sequence: event.sequence, time: event.time, data: event.data })}\n`,
  );
}

const server = createServer((req, res) => {
  if (req.method !== 'POST') return res.writeHead(405, { allow: 'POST' }).end();
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY) req.destroy();
    else chunks.push(chunk);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    let event: CloudEvent;
    try {
      event = verified(body, headers);
    } catch (error) {
      const why = error instanceof WebhookVerificationError ? error.message : 'not a signed webhook request';
      process.stderr.write(`refused a request: ${why}\n`);
      return res.writeHead(401, { 'content-type': 'text/plain' }).end(`${why}\n`);
    }
    if (!firstTime(headers['webhook-id'] ?? event.id, Date.now())) {
      process.stderr.write(`duplicate ${headers['webhook-id']}: already processed\n`);
      return res.writeHead(200).end();
    }
    res.writeHead(204).end();
    processEvent(event);
  });
});
server.listen(port, host, () => process.stderr.write(`webhook-receiver listening on http://${host}:${port}\n`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
