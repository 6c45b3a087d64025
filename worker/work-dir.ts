// A worker process's own directory under WORK_DIR: Terraform's data
// directories (one per template) and each job's directory under jobs/. It is
// removed when the worker stops.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';

export type WorkDir = { dataDir: string; jobsDir: string; remove(): Promise<void> };

export async function makeWorkDir(workDir: string, workerId: string): Promise<WorkDir> {
  const dataDir = path.join(workDir, `worker-${workerId.replace(/[^A-Za-z0-9_-]/g, '_')}`);
  const jobsDir = path.join(dataDir, 'jobs');
  await mkdir(jobsDir, { recursive: true, mode: 0o700 });
  return { dataDir, jobsDir, remove: () => rm(dataDir, { recursive: true, force: true }) };
}
