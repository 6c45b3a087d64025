// Lifecycle events beside the stacks: how long a batch of creates takes to
// reach ready with no webhook, with a healthy receiver, and with a receiver
// that is down, 5 s slow, or resets the connection mid-answer (behind the
// tests' fault-injecting proxy); what the API's POST costs meanwhile; how
// long after the receiver heals every event has arrived, and how many
// duplicates it saw (after a ping, which closes the receiver's circuit). One
// API and one worker (`WORKER_CONCURRENCY=2`), the delivery settings at their
// defaults.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Store } from '../core/store/index.ts';
import { FaultProxy, type Toxic } from '../test/support/fault-proxy.ts';
import { Receiver } from '../test/support/receiver.ts';
import { type Spread, spread } from './changes.ts';
import { FIXTURE, installationEnv, type Setup } from './pipeline.ts';
import { AUTH_HEADER, inLanes, startService } from './processes.ts';

const VARIANTS = ['no webhook', 'healthy receiver', 'receiver down', '5 s latency', 'reset mid-response'] as const;
type Variant = (typeof VARIANTS)[number];
const TOXICS: Partial<Record<Variant, Toxic>> = {
  'receiver down': { kind: 'down' },
  '5 s latency': { kind: 'latency', ms: 5_000 },
  'reset mid-response': { kind: 'reset_mid_response' },
};
const EVENTS_PER_CREATE = 5;

export type EventsRow = {
  variant: Variant;
  batchMs: Spread & { min: number; max: number };
  postMs: Spread;
  healMs: Spread | null;
  duplicates: number;
  deliveredPerStack: number;
};
export type EventsResults = { stacks: number; rounds: number; rows: EventsRow[]; eventsPerChange: number };

export async function runEvents(
  setup: Setup,
  log: (message: string) => void,
  stacks = 40,
  rounds = 5,
): Promise<EventsResults> {
  const installation = installationEnv(setup, FIXTURE, 2);
  const env = {
    ...installation.env,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  };
  const base = `http://127.0.0.1:${installation.port}`;
  const api = await startService('api/main.ts', env, 'api listening');
  const worker = await startService('worker/main.ts', env, 'worker ready');
  const redis = new Redis(setup.redisUrl);
  const store = new Store(redis, installation.prefix, 86_400);
  const receiver = await new Receiver().start();
  const proxy = new FaultProxy(receiver.url);
  const proxied = `${await proxy.start()}/hook`;
  const samples = new Map<
    Variant,
    { batch: number[]; post: number[]; heal: number[]; duplicates: number; delivered: number; ids: number }
  >();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const variant of VARIANTS) {
        log(`events: round ${round}, ${variant}`);
        const toxic = TOXICS[variant];
        let webhookId: string | undefined;
        if (variant !== 'no webhook') {
          const made = await call(base, 'POST', '/api/webhooks', { url: toxic ? proxied : receiver.url });
          webhookId = made.id as string;
          proxy.set(toxic ?? { kind: 'none' });
        }
        const before = receiver.requests.length;
        const { ids, batchMs, postMs } = await batch(base, store, stacks);
        proxy.set({ kind: 'none' });
        const healed = performance.now();
        let healMs: number | undefined;
        if (webhookId) {
          // As an operator would once the receiver is back: a ping closes the
          // circuit the failures opened, instead of waiting out its hour.
          if (toxic) await call(base, 'POST', `/api/webhooks/${webhookId}/ping`);
          const wanted = new Set(
            (await store.outbox.entries()).filter((e) => ids.includes(e.subject)).map((e) => `evt_${e.entryId}`),
          );
          await receiver.waitFor(
            (requests) => {
              const got = new Set(requests.slice(before).map((r) => r.event.id));
              return [...wanted].every((id) => got.has(id));
            },
            `all ${wanted.size} events`,
            600_000,
          );
          healMs = performance.now() - healed;
          await call(base, 'DELETE', `/api/webhooks/${webhookId}`);
        }
        const mine = receiver.requests.slice(before).filter((r) => ids.includes(r.event.subject));
        const s = samples.get(variant) ?? { batch: [], post: [], heal: [], duplicates: 0, delivered: 0, ids: 0 };
        s.batch.push(batchMs);
        s.post.push(...postMs);
        if (healMs !== undefined && toxic) s.heal.push(healMs);
        s.duplicates += mine.length - new Set(mine.map((r) => r.event.id)).size;
        s.delivered += new Set(mine.map((r) => r.event.id)).size;
        s.ids += ids.length;
        samples.set(variant, s);
      }
    }
    const entries = await store.outbox.entries();
    const perStack = new Map<string, number>();
    for (const e of entries) perStack.set(e.subject, (perStack.get(e.subject) ?? 0) + 1);
    const counts = [...perStack.values()];
    return {
      stacks,
      rounds,
      eventsPerChange: counts.reduce((a, b) => a + b, 0) / (counts.length * EVENTS_PER_CREATE),
      rows: VARIANTS.map((variant) => {
        const s = samples.get(variant)!;
        return {
          variant,
          batchMs: { ...spread(s.batch), min: Math.round(Math.min(...s.batch)), max: Math.round(Math.max(...s.batch)) },
          postMs: spread(s.post),
          healMs: s.heal.length ? spread(s.heal) : null,
          duplicates: s.duplicates,
          deliveredPerStack: s.delivered / s.ids,
        };
      }),
    };
  } finally {
    await proxy.stop();
    await receiver.stop();
    redis.disconnect();
    await worker.stop();
    await api.stop();
  }
}

async function call(base: string, method: string, route: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { ...AUTH_HEADER, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status >= 300) throw new Error(`${method} ${route} answered ${res.status}: ${await res.text()}`);
  return res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
}

// `n` creates from four clients at once; the time from the first POST to the
// last stack ready, and each POST's latency.
async function batch(
  base: string,
  store: Store,
  n: number,
): Promise<{ ids: string[]; batchMs: number; postMs: number[] }> {
  const ids: string[] = [];
  const postMs: number[] = [];
  const started = performance.now();
  await inLanes(
    Array.from({ length: n }, (_, i) => i),
    4,
    async () => {
      const sent = performance.now();
      const made = await call(base, 'POST', '/api/ec2instance', {});
      postMs.push(performance.now() - sent);
      ids.push(made.id as string);
    },
  );
  let pending = [...ids];
  while (pending.length > 0) {
    const statuses = await Promise.all(pending.map(async (id) => [id, (await store.stacks.get(id))?.status] as const));
    const failed = statuses.find(([, status]) => status === 'failed');
    if (failed) throw new Error(`stack ${failed[0]} failed`);
    pending = statuses.filter(([, status]) => status !== 'ready').map(([id]) => id);
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { ids, batchMs: performance.now() - started, postMs };
}
