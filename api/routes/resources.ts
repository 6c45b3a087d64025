// /api/ec2instance: parse, call one use case, map the outcome to HTTP.
import { Router, type Request, type Response } from 'express';
import { CreateResourceRequest, ListQuery, type Resource } from '../../core/schemas.ts';
import { AppError } from '../../core/errors.ts';
import { principalOf } from '../auth.ts';
import { preferredWait } from '../prefer.ts';
import { requireId, methodNotAllowed } from '../problems.ts';
import { parseOrThrow } from '../validate.ts';
import { createResource, deleteResource, getResource, isFinished, retryResource, type UseCaseDeps, waitForResource } from '../use-cases.ts';

export const RESOURCES_PATH = '/api/ec2instance';

export function resourcesRouter(deps: UseCaseDeps & { shutdown: AbortSignal }): Router {
  const router = Router();

  router
    .route(RESOURCES_PATH)
    .get(async (req, res) => {
      const query = parseOrThrow(ListQuery, req.query, 'query');
      const page = await deps.store.resources.list(query);
      res.json({ items: page.items, next_cursor: page.nextCursor });
    })
    .post(async (req, res) => {
      const key = idempotencyKey(req.get('idempotency-key'));
      const request = parseOrThrow(CreateResourceRequest, req.body ?? {}, 'body');
      const { resource, replayed } = await createResource(deps, principalOf(req), request, key);
      res.location(`${RESOURCES_PATH}/${resource.id}`);
      if (replayed) res.set('Idempotent-Replayed', 'true');
      const final = await maybeWait(req, res, resource);
      res.status(isFinished(final) ? (final.status === 'ready' ? 201 : 200) : 202).json(final);
    })
    .all(methodNotAllowed(['GET', 'POST']));

  router
    .route(`${RESOURCES_PATH}/:id`)
    .get(async (req, res) => {
      res.json(await getResource(deps, requireId(req.params.id)));
    })
    .delete(async (req, res) => {
      const { resource } = await deleteResource(deps, requireId(req.params.id));
      const final = await maybeWait(req, res, resource);
      res.status(isFinished(final) ? 200 : 202).json(final);
    })
    .all(methodNotAllowed(['GET', 'DELETE']));

  router
    .route(`${RESOURCES_PATH}/:id/retry`)
    .post(async (req, res) => {
      const resource = await retryResource(deps, requireId(req.params.id));
      const final = await maybeWait(req, res, resource);
      res.status(isFinished(final) ? 200 : 202).json(final);
    })
    .all(methodNotAllowed(['POST']));

  async function maybeWait(req: Request, res: Response, resource: Resource): Promise<Resource> {
    const seconds = preferredWait(req.get('prefer'));
    if (seconds === undefined || isFinished(resource)) return resource;
    res.set('Preference-Applied', `wait=${seconds}`);
    if (seconds === 0) return resource;
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const final = await waitForResource(deps, resource, seconds, AbortSignal.any([gone.signal, deps.shutdown]));
    // Report the job the request started, not one requested since.
    return final.job.id === resource.job.id ? final : resource;
  }

  return router;
}

// The Idempotency-Key header (IETF httpapi draft): a structured-field string,
// "quoted", though a bare value is accepted too.
function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = /^"(.*)"$/.exec(header.trim())?.[1] ?? header.trim();
  if (!/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,255}$/.test(value)) {
    throw new AppError('invalid-idempotency-key', 'Idempotency-Key must be 1-255 printable ASCII characters, without " or \\');
  }
  return value;
}
