// `npm run events -- preview [--webhook ID]`: for each event type, exactly
// the request a delivery would send (URL, headers, body), made by the code
// the delivery queue uses, with this installation's source. With --webhook,
// to that webhook's URL and signed with its secrets (needs ENCRYPTION_KEY);
// otherwise to an example URL, signed with a secret made for the preview.
// `npm run events -- schema`: every type's data schema (JSON Schema 2020-12).
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type Config, ConfigError, loadConfig } from '../core/config.ts';
import { eventTypeDescriptions, EVENT_TYPES, PING_EVENT_TYPE, type EventType } from '../core/events/catalogue.ts';
import { eventSource, toCloudEvent, type CloudEvent } from '../core/events/cloud-event.ts';
import { deliveryRequest } from '../worker/webhooks/delivery-request.ts';
import { closeRedis, connectRedis, describeTarget } from '../core/redis.ts';
import { SecretBox } from '../core/secret-box.ts';
import { Store } from '../core/store/index.ts';
import { loadCatalogue } from '../core/templates/index.ts';
import { within } from '../core/within.ts';
import { pingEvent } from '../core/webhooks/manage-deliveries.ts';
import { signingSecrets } from '../core/webhooks/secrets.ts';

const USAGE = 'usage: npm run events -- preview [--webhook ID] | schema';
const EXAMPLE_URL = 'https://receiver.example/tfcompute';

function fail(message: string): never {
  process.stderr.write(`npm run events: ${message}\n`);
  process.exit(2);
}

// An example of each type as a script would record it (see
// core/store/lua/includes/events.lua): the stack's status, and its job's
// action and status, when such an event is recorded.
const EXAMPLES: Record<Exclude<EventType, typeof PING_EVENT_TYPE>, [stack: string, action: string, job: string]> = {
  'io.tfcompute.stack.creating': ['creating', 'create', 'queued'],
  'io.tfcompute.stack.ready': ['ready', 'create', 'succeeded'],
  'io.tfcompute.stack.failed': ['failed', 'create', 'failed'],
  'io.tfcompute.stack.updating': ['updating', 'update', 'queued'],
  'io.tfcompute.stack.update_failed': ['update_failed', 'update', 'failed'],
  'io.tfcompute.stack.deleting': ['deleting', 'delete', 'queued'],
  'io.tfcompute.stack.deleted': ['deleted', 'delete', 'succeeded'],
  'io.tfcompute.stack.delete_failed': ['delete_failed', 'delete', 'failed'],
  'io.tfcompute.stack.drifted': ['ready', 'plan', 'succeeded'],
  'io.tfcompute.job.queued': ['creating', 'create', 'queued'],
  'io.tfcompute.job.running': ['creating', 'create', 'running'],
  'io.tfcompute.job.planned': ['updating', 'update', 'planned'],
  'io.tfcompute.job.policy_failed': ['ready', 'update', 'policy_failed'],
  'io.tfcompute.job.succeeded': ['creating', 'create', 'succeeded'],
  'io.tfcompute.job.failed': ['creating', 'create', 'failed'],
  'io.tfcompute.job.cancelled': ['creating', 'create', 'cancelled'],
  'io.tfcompute.job.discarded': ['updating', 'update', 'discarded'],
};

function exampleEntry(type: keyof typeof EXAMPLES, template: { name: string; version: string }, sequence: number) {
  const [stackStatus, action, jobStatus] = EXAMPLES[type];
  return {
    entryId: `${Date.now()}-${sequence}`,
    type,
    subject: 'k3v9q2m8x1c4b7n0',
    sequence,
    time: new Date().toISOString(),
    data: JSON.stringify({
      stack: { id: 'k3v9q2m8x1c4b7n0', project: 'payments', status: stackStatus, template, tags: { team: 'platform' } },
      job: { id: 'jq4w8e2r6t0y3u5i', action, status: jobStatus },
    }),
  };
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'schema') {
  process.stdout.write(
    `${JSON.stringify(Object.fromEntries(eventTypeDescriptions().map((d) => [d.type, { description: d.description, data: d.data_schema }])), null, 2)}\n`,
  );
  process.exit(0);
}
if (command !== 'preview') fail(USAGE);
const webhookFlag = rest.indexOf('--webhook');
const webhookId = webhookFlag >= 0 ? rest[webhookFlag + 1] : undefined;
if (webhookFlag >= 0 && !webhookId) fail(USAGE);

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}
const redis = connectRedis(config.redis, 'api', 'tfcompute-events-preview');
redis.on('error', () => undefined);
try {
  const store = new Store(redis, config.redisPrefix, config.worker.jobRetentionSeconds);
  // The source is made of the installation's seed, kept in Redis.
  const unreachable = () =>
    fail(
      `cannot reach Redis (${describeTarget(config.redis)}) to read the installation's event source; under npm run dev, REDIS_URL=redis://127.0.0.1:6390`,
    );
  if (redis.status !== 'ready') await within(once(redis, 'ready'), 5_000).catch(unreachable);
  const source = eventSource(await within(store.outbox.seed(), 5_000).catch(unreachable));
  let url = EXAMPLE_URL;
  let secrets = [`whsec_${randomBytes(32).toString('base64')}`];
  let note = 'signed with a secret made for this preview';
  if (webhookId) {
    const webhook = await store.webhooks.get(webhookId);
    if (!webhook) fail(`no webhook ${webhookId}`);
    if (!config.encryptionKey) fail("ENCRYPTION_KEY is needed to sign with the webhook's secrets");
    url = webhook.url;
    secrets = signingSecrets(new SecretBox(config.encryptionKey), webhook);
    note = `signed with the secrets of webhook ${webhookId}`;
  }
  const catalogue = await loadCatalogue(config.templates, { canEncrypt: config.encryptionKey !== undefined });
  const template = catalogue.list()[0] ?? { name: 'ec2instance', version: '0000000000000000' };
  process.stdout.write(`# what a delivery of each event type sends (example ids; ${note})\n`);
  let sequence = 0;
  for (const type of EVENT_TYPES) {
    sequence += 1;
    let event: CloudEvent;
    if (type === PING_EVENT_TYPE) {
      event = pingEvent('wk3v9q2m8x1c4b7n', source, 1);
    } else {
      const built = toCloudEvent(
        exampleEntry(type, { name: template.name, version: template.version }, sequence),
        source,
      );
      if (!built.ok) fail(`${type}: ${built.reason}`);
      event = built.event;
    }
    const request = deliveryRequest(url, event, secrets, new Date());
    const headers = Object.entries(request.headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\n');
    process.stdout.write(`\n## ${type}\n${request.method} ${request.url}\n${headers}\n\n${request.body}\n`);
  }
} finally {
  await closeRedis(redis);
}
