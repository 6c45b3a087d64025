// What the lifecycle's steps need: the store, the queue, a logger, and the
// job settings every new job gets.
import type { Logger } from '../logger.ts';
import type { JobQueue } from '../queue.ts';
import type { Store } from '../store/index.ts';

export type LifecycleDeps = {
  store: Store;
  queue: JobQueue;
  logger: Logger;
  jobs: { attempts: number; backoffMs: number };
};
