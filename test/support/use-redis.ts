// A redis-server of the test file's own, for tests of the store against a real
// Redis without the rest of the system: started before the file's tests,
// stopped (its directory removed) after them, with one connection to it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { startRedis, type RedisServer } from './local-services.ts';

// The file's redis-server: a connection to it, its URL (for connections of a
// test's own) and its directory (room for a test's files too).
export type FileRedis = { redis: Redis; url: string; dir: string };

// Call at the top level of a test file; the function it returns gives the
// server from the file's first `before` on.
export function useRedis(name: string): () => FileRedis {
  let dir: string | undefined;
  let server: RedisServer | undefined;
  let running: FileRedis | undefined;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), `tfcompute-${name}-`));
    server = await startRedis(dir);
    running = { redis: new Redis(server.url), url: server.url, dir };
  });
  after(async () => {
    running?.redis.disconnect();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (running === undefined) throw new Error('useRedis: the server is there once its before hook has run');
    return running;
  };
}

// A key prefix of a test's own: nothing one test writes is seen by another.
export function uniquePrefix(name: string): string {
  return `${name}-${nanoid(8).replace(/[^A-Za-z0-9]/g, 'x')}`;
}
