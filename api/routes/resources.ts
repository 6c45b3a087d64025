// /api/ec2instance: parse, call one use case, map the outcome to HTTP.
import { Router, type Request, type Response } from 'express';
import { CreateResourceRequest, ListQuery, type Resource } from '../../core/schemas.ts';
import { preferredWait } from '../prefer.ts';
import { requireId, methodNotAllowed } from '../problems.ts';
import { parseOrThrow } from '../validate.ts';
import { createResource, deleteResource, getResource, isFinished, retryResource, type UseCaseDeps, waitForResource } from '../use-cases.ts';

export const RESOURCES_PATH = '/api/ec2instance';

export function resourcesRouter(deps: UseCaseDeps): Router {
  const router = Router();

  router
    .route(RESOURCES_PATH)
    .get(async (req, res) => {
      const query = parseOrThrow(ListQuery, req.query, 'query');
      const page = await deps.store.listResources(query);
      res.json({ items: page.items, next_cursor: page.nextCursor });
    })
    .post(async (req, res) => {
      const inputs = parseOrThrow(CreateResourceRequest, req.body ?? {}, 'body');
      const resource = await createResource(deps, inputs);
      res.location(`${RESOURCES_PATH}/${resource.id}`);
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
    const final = await waitForResource(deps, resource, seconds, gone.signal);
    // Report the job the request started, not one requested since.
    return final.job.id === resource.job.id ? final : resource;
  }

  return router;
}
