// The console's live status over Server-Sent Events, for htmx's SSE
// extension: the stacks table hears that a stack changed (and fetches its
// rows again, filters and all), a stack's page gets its status and details
// rendered anew (swapped in by `sse-swap`). Fed by the job events the API
// already hears (the store's pub/sub, through JobWaiter), and only of stacks
// the session's principal may read. The principal is found again, as a
// request would find it, before anything is sent and at every keepalive, so
// the stream ends (an `end` event, which closes it) once the session is
// signed out, expires, or its token is revoked.
import { type Response, Router } from 'express';
import { allows, type Principal, roleIn } from '../../../core/access/roles.ts';
import type { JobEvent } from '../../../core/store/index.ts';
import { stackFor } from '../../access.ts';
import { requireId } from '../../problems.ts';
import type { UseCaseDeps } from '../../wait.ts';
import { type ConsoleAuth, currentPrincipal } from '../router.ts';
import { sessionOf } from '../security.ts';
import { stackView } from '../stack-view.ts';
import { renderView } from '../views.ts';

const KEEPALIVE_MS = 15_000;

export function eventPages(
  deps: Pick<UseCaseDeps, 'store' | 'waiter' | 'catalogue'> & { shutdown: AbortSignal },
  auth: ConsoleAuth,
): Router {
  const router = Router();

  router.get('/events', async (req, res) => {
    // One stack's page, or (no `stack`) the stacks table.
    const stackId = req.query.stack === undefined ? undefined : requireId(String(req.query.stack));
    if (stackId !== undefined) await stackFor(deps, req, undefined, stackId, 'read');
    const jobsCursor = typeof req.query.jobs === 'string' && req.query.jobs !== '' ? req.query.jobs : undefined;
    const sessionId = sessionOf(req).id;
    const page = res.locals.page as Record<string, unknown>;
    startStream(res);
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    const stop = AbortSignal.any([closed.signal, deps.shutdown]);

    // Stacks that changed since the last turn; a stack's page starts with its
    // own, so a change between the page's rendering and this stream is not missed.
    const changed = new Set<string>(stackId === undefined ? [] : [stackId]);
    let wake: () => void = () => undefined;
    deps.waiter.onJobEvent((event: JobEvent) => {
      if (stackId !== undefined && event.stackId !== stackId) return;
      changed.add(event.stackId);
      wake();
    }, stop);

    while (!stop.aborted) {
      const principal = await currentPrincipal(auth, sessionId);
      if (!principal) {
        res.write('event: end\ndata: the session has ended\n\n');
        break;
      }
      const ids = [...changed];
      changed.clear();
      for (const id of ids) {
        const stack = await readable(deps, principal, id);
        if (!stack) continue;
        if (stackId === undefined) {
          send(res, 'stacks', id);
          continue;
        }
        const view = { ...page, principal, ...(await stackView(deps, principal, stack, jobsCursor)) };
        send(res, 'status', renderView('stack-status', view));
        send(res, 'details', renderView('stack-details', view));
      }
      if (changed.size > 0) continue;
      const turn = AbortSignal.any([stop, AbortSignal.timeout(KEEPALIVE_MS)]);
      await new Promise<void>((resolve) => {
        wake = resolve;
        turn.addEventListener('abort', () => resolve(), { once: true });
      });
      wake = () => undefined;
      if (changed.size === 0 && !stop.aborted) res.write(': keepalive\n\n');
    }
    res.end();
  });
  return router;
}

function startStream(res: Response): void {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
}

// The stack, if it still exists and the principal may read it.
async function readable(deps: Pick<UseCaseDeps, 'store'>, principal: Principal, id: string) {
  const stack = await deps.store.stacks.get(id);
  return stack && allows(roleIn(principal, stack.project), 'read') ? stack : null;
}

// One event; every line of the data its own `data:` line, and no line break
// left inside one, so no value shown can start an event of its own.
function send(res: Response, event: string, data: string): void {
  res.write(
    `event: ${event}\n${data
      .split(/\r\n|\r|\n/)
      .map((line) => `data: ${line}`)
      .join('\n')}\n\n`,
  );
}
