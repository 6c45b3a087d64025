// /api/jobs: a job's record, its Terraform log (plain text, or followed live
// as Server-Sent Events), and cancelling it.
import { Router, type Request, type Response } from 'express';
import { methodNotAllowed, requireId } from '../problems.ts';
import { cancelJob, getJob, isJobFinished, type UseCaseDeps } from '../use-cases.ts';

const KEEPALIVE_MS = 15_000;
const CHUNK_BYTES = 64 * 1024;

export function jobsRouter(deps: UseCaseDeps & { shutdown: AbortSignal }): Router {
  const router = Router();

  router
    .route('/api/jobs/:jobId')
    .get(async (req, res) => {
      res.json(await getJob(deps, requireId(req.params.jobId)));
    })
    .all(methodNotAllowed(['GET']));

  router
    .route('/api/jobs/:jobId/log')
    .get(async (req, res) => {
      const jobId = requireId(req.params.jobId);
      if (req.accepts(['text/plain', 'text/event-stream']) === 'text/event-stream') {
        await getJob(deps, jobId);
        await streamLog(req, res, jobId);
        return;
      }
      const [, log] = await Promise.all([getJob(deps, jobId), deps.store.logs.get(jobId)]);
      res.type('text/plain; charset=utf-8').send(log);
    })
    .all(methodNotAllowed(['GET']));

  router
    .route('/api/jobs/:jobId/cancel')
    .post(async (req, res) => {
      const job = await cancelJob(deps, requireId(req.params.jobId));
      res.status(isJobFinished(job.status) ? 200 : 202).json(job);
    })
    .all(methodNotAllowed(['POST']));

  // Sends the log from the client's Last-Event-ID (a byte offset) on, then
  // each part as the worker writes it, and an `end` event with the job's
  // status once it has finished and everything has been sent.
  async function streamLog(req: Request, res: Response, jobId: string): Promise<void> {
    const lastEventId = Number(req.get('last-event-id'));
    let offset = Number.isSafeInteger(lastEventId) && lastEventId > 0 ? lastEventId : 0;
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    const stop = AbortSignal.any([closed.signal, deps.shutdown]);
    while (!stop.aborted) {
      // Listen before reading, so a write between the two is not missed.
      const turn = new AbortController();
      const activity = deps.waiter.nextActivity(jobId, AbortSignal.any([stop, turn.signal, AbortSignal.timeout(KEEPALIVE_MS)]));
      try {
        // The worker flushes the log before it records the end, so a finished
        // job's log is complete when it is read after the status.
        const job = await deps.store.jobs.get(jobId);
        const finished = !job || isJobFinished(job.status);
        const chunk = await deps.store.logs.range(jobId, offset, CHUNK_BYTES);
        // Whole lines only while the job runs; the rest comes with the next write.
        const end = finished ? chunk.length : chunk.lastIndexOf(10) + 1;
        if (end > 0) {
          offset += end;
          const lines = chunk.subarray(0, end).toString('utf8').replace(/\n$/, '').split('\n');
          res.write(`id: ${offset}\nevent: log\n${lines.map((line) => `data: ${line}`).join('\n')}\n\n`);
          if (chunk.length === CHUNK_BYTES) continue;
        }
        if (finished) {
          res.write(`event: end\ndata: ${JSON.stringify({ status: job?.status ?? 'expired' })}\n\n`);
          break;
        }
        await activity;
        if (!stop.aborted) res.write(': keepalive\n\n');
      } finally {
        turn.abort();
      }
    }
    res.end();
  }

  return router;
}
