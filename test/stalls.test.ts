// A job that BullMQ fails itself because its workers kept dying under it is
// recognised by BullMQ's own marks on the job (worker/queues.ts), not by the
// words of its failure: a real Redis, a worker whose locks lapse (as a dead
// worker's do), and BullMQ's own stall checker.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { isStalledOut, onStalledOut } from '../worker/queues.ts';
import { startRedis, type RedisServer } from './support/local-services.ts';

let redis: RedisServer;
let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-stalls-'));
  redis = await startRedis(path.join(dir, 'redis'));
});
after(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a job whose worker keeps losing its lock is failed by BullMQ, and recognised as stalled out', async (t) => {
  const connection = { host: '127.0.0.1', port: redis.port };
  const prefix = `stalls-${process.pid}`;
  const queue = new Queue('stalling', { connection, prefix });
  // Locks never renewed and a processor that never ends: each lock lapses
  // as a dead worker's would, and the stall checker takes the job back.
  const worker = new Worker('stalling', () => new Promise(() => undefined), {
    connection,
    prefix,
    concurrency: 5,
    lockDuration: 200,
    stalledInterval: 200,
    maxStalledCount: 1,
    skipLockRenewal: true,
  });
  t.after(async () => {
    await worker.close(true);
    await queue.obliterate({ force: true });
    await queue.close();
  });
  const stalledOut = new Promise<Job>((resolve) => onStalledOut(worker, resolve));
  const [, failed] = await Promise.all([queue.add('hang', { n: 1 }), once(worker, 'failed') as Promise<[Job, Error]>]);
  const job = await stalledOut;
  assert.equal(job.name, 'hang');
  assert.ok(job.stalledCounter > 1);
  assert.ok(failed[1] instanceof UnrecoverableError);
});

test('a job failed by its own attempt is not taken as stalled out, whatever its message says', async (t) => {
  const connection = { host: '127.0.0.1', port: redis.port };
  const prefix = `stalls-own-${process.pid}`;
  const queue = new Queue('failing', { connection, prefix });
  const worker = new Worker(
    'failing',
    async (): Promise<void> => {
      throw new UnrecoverableError('job stalled more than allowable limit');
    },
    { connection, prefix, maxStalledCount: 1 },
  );
  t.after(async () => {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  });
  let recognised = 0;
  onStalledOut(worker, () => recognised++);
  const [, [job]] = await Promise.all([queue.add('fail', {}), once(worker, 'failed') as Promise<[Job, Error]>]);
  assert.equal(recognised, 0);
  assert.equal(isStalledOut(job, 1), false);
});
