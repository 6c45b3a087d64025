// Prefer: wait (RFC 7240) for the stack routes: a request that started a job
// may hold its answer until the job settles, the client goes, or the API stops.
import type { Request, Response } from 'express';
import type { Job, Stack } from '../../core/schemas/index.ts';
import { preferredWait } from '../prefer.ts';
import { isFinished, isJobFinished, type UseCaseDeps, waitForJob, waitForStack } from '../wait.ts';

export type PreferredWaits = {
  // The stack as it is once its job settled (or as it was, if the wait ended first).
  maybeWait(req: Request, res: Response, stack: Stack): Promise<Stack>;
  maybeWaitForJob(req: Request, res: Response, job: Job): Promise<Job>;
};

export function preferredWaits(
  deps: Pick<UseCaseDeps, 'store' | 'waiter'> & { shutdown: AbortSignal },
): PreferredWaits {
  // With `Prefer: wait=N` on a request whose job has not finished: marks the
  // preference applied and, for N > 0, returns how long to wait and a signal
  // that ends the wait early (the client went, or the API is stopping).
  function waitPreference(
    req: Request,
    res: Response,
    finished: boolean,
  ): { seconds: number; signal: AbortSignal } | undefined {
    const seconds = preferredWait(req.get('prefer'));
    if (seconds === undefined || finished) return undefined;
    res.set('Preference-Applied', `wait=${seconds}`);
    if (seconds === 0) return undefined;
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    return { seconds, signal: AbortSignal.any([gone.signal, deps.shutdown]) };
  }

  async function maybeWait(req: Request, res: Response, stack: Stack): Promise<Stack> {
    const wait = waitPreference(req, res, isFinished(stack));
    if (!wait) return stack;
    const final = await waitForStack(deps, stack, wait.seconds, wait.signal);
    // Report the job the request started, not one requested since.
    return final.job.id === stack.job.id ? final : stack;
  }

  async function maybeWaitForJob(req: Request, res: Response, job: Job): Promise<Job> {
    const wait = waitPreference(req, res, isJobFinished(job.status));
    return wait ? waitForJob(deps, job, wait.seconds, wait.signal) : job;
  }

  return { maybeWait, maybeWaitForJob };
}
