// A job's Terraform log as Server-Sent Events, for the REST route and the
// console alike: from the client's Last-Event-ID (a byte offset) or `from`
// on, then each part as the worker writes it, and an `end` event with the
// job's status once it has settled (finished, or planned: an update waiting
// for approval, whose apply a client follows with a new request) and
// everything has been sent. `lines` turns a part into the event's data lines
// (the console's are escaped HTML).
import type { Request, Response } from 'express';
import type { UseCaseDeps } from './wait.ts';
import { isJobSettled } from './wait.ts';

const KEEPALIVE_MS = 15_000;
const CHUNK_BYTES = 64 * 1024;

export async function streamLog(
  deps: Pick<UseCaseDeps, 'store' | 'waiter'> & { shutdown: AbortSignal },
  req: Request,
  res: Response,
  jobId: string,
  format: { from: number; lines: (text: string) => string[] },
): Promise<void> {
  const lastEventId = Number(req.get('last-event-id'));
  let offset = Number.isSafeInteger(lastEventId) && lastEventId > 0 ? lastEventId : format.from;
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
    const activity = deps.waiter.nextActivity(
      jobId,
      AbortSignal.any([stop, turn.signal, AbortSignal.timeout(KEEPALIVE_MS)]),
    );
    try {
      // The worker flushes the log before it records the end, so a finished
      // job's log is complete when it is read after the status.
      const job = await deps.store.jobs.get(jobId);
      const finished = !job || isJobSettled(job.status);
      const chunk = await deps.store.logs.range(jobId, offset, CHUNK_BYTES);
      // Whole lines only while the job runs; the rest comes with the next write.
      const end = finished ? chunk.length : chunk.lastIndexOf(10) + 1;
      if (end > 0) {
        offset += end;
        // Every line ending SSE knows (CRLF, CR, LF) ends a data line: a bare
        // CR left inside one would let Terraform's output start an `event:` line.
        const lines = format.lines(
          chunk
            .subarray(0, end)
            .toString('utf8')
            .replace(/(\r\n|\r|\n)$/, ''),
        );
        res.write(
          `id: ${offset}\nevent: log\n${lines.map((line) => `data: ${line.replace(/[\r\n]/g, ' ')}`).join('\n')}\n\n`,
        );
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
