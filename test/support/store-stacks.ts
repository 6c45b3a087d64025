// Stacks and jobs recorded in a store directly, as the API and a worker would
// record them, for the tests of the store itself.
import { newJobId, newStackId } from '../../core/ids.ts';
import type { JobEnd, Store } from '../../core/store/index.ts';

export const TEMPLATE = { name: 'ec2instance', version: 'v1' };
export const INPUTS = { instance_type: 't3.micro', node_count: 1, tags: {} };

// A new stack's create, as the API records it (owner `ci`, a live cap of 10);
// the outcome says whether it was.
export async function recordCreate(store: Store, overrides: Partial<Parameters<Store['stacks']['create']>[0]> = {}) {
  const id = newStackId();
  const jobId = newJobId();
  const outcome = await store.stacks.create({
    id,
    jobId,
    template: TEMPLATE,
    inputs: INPUTS,
    setInputs: [],
    maxAttempts: 3,
    owner: 'ci',
    maxLive: 10,
    ...overrides,
  });
  return { id, jobId, outcome };
}

// A job started and ended, as a worker records it.
export async function runJob(store: Store, stackId: string, jobId: string, end: Omit<JobEnd, 'stackId' | 'jobId'>) {
  await store.jobs.markRunning(stackId, jobId);
  await store.jobs.finish({ stackId, jobId, ...end });
}
