// /api/jobs: a job's record and its Terraform log.
import { Router } from 'express';
import { AppError } from '../../core/errors.ts';
import { methodNotAllowed, requireId } from '../problems.ts';
import type { UseCaseDeps } from '../use-cases.ts';

export function jobsRouter(deps: Pick<UseCaseDeps, 'store'>): Router {
  const router = Router();

  router
    .route('/api/jobs/:jobId')
    .get(async (req, res) => {
      const jobId = requireId(req.params.jobId);
      const job = await deps.store.getJob(jobId);
      if (!job) throw new AppError('job-not-found', `no job with id ${jobId}`);
      res.json(job);
    })
    .all(methodNotAllowed(['GET']));

  router
    .route('/api/jobs/:jobId/log')
    .get(async (req, res) => {
      const jobId = requireId(req.params.jobId);
      const [job, log] = await Promise.all([deps.store.getJob(jobId), deps.store.getLog(jobId)]);
      if (!job) throw new AppError('job-not-found', `no job with id ${jobId}`);
      res.type('text/plain; charset=utf-8').send(log);
    })
    .all(methodNotAllowed(['GET']));

  return router;
}
