// State Terraform could not save. When the backend fails at the end of an
// apply or destroy, Terraform writes the state to errored.tfstate in its
// working directory (the job's own, see job-dir.ts); that file is then the
// only record of what the run made.
// It is kept per workspace (if its lineage is the workspace's) and pushed
// before the next run for the stack, so a retry does not make it all again.
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const ERRORED_STATE = 'errored.tfstate';

export class ErroredState {
  // Where kept state waits; shared by the worker processes of a host.
  readonly #dir: string;
  // The worker that keeps it, named in the job's log.
  readonly workerId: string;

  constructor(dir: string, workerId: string) {
    this.#dir = dir;
    this.workerId = workerId;
  }

  // Keeps the errored.tfstate a failed run left in `cwd`, if there is one and
  // it is this workspace's; `lineage` is the workspace's, read before the run (the
  // backend may be unreachable now). Returns whether state was kept, and
  // whether a file of someone else's was left alone.
  async keep(cwd: string, workspace: string, lineage: string | undefined): Promise<'kept' | 'none' | 'foreign'> {
    const file = path.join(cwd, ERRORED_STATE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return 'none';
    }
    if (!lineage || (JSON.parse(text) as { lineage?: string }).lineage !== lineage) return 'foreign';
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await writeFile(this.#path(workspace), text, { mode: 0o600 });
    await rm(file, { force: true });
    return 'kept';
  }

  // The file of state kept for the workspace, if any.
  async pending(workspace: string): Promise<string | undefined> {
    const file = this.#path(workspace);
    try {
      await access(file);
      return file;
    } catch {
      return undefined;
    }
  }

  async pushed(workspace: string): Promise<void> {
    await rm(this.#path(workspace), { force: true });
  }

  #path(workspace: string): string {
    return path.join(this.#dir, `${workspace}.tfstate`);
  }
}
