// A job's own working directory. Terraform writes errored.tfstate, the only
// record of what a run made when it could not save state, into the directory
// it runs in; jobs sharing the template's directory would overwrite each
// other's. So each job runs in a directory of its own that mirrors the
// template's: every entry a symbolic link to the template's, and the
// template's parents mirrored as far up as its local modules reach
// (`source = "../module"`), so relative paths resolve as in the template.
// A stack whose state has a workspace_key_prefix of its own also gets a data
// directory of its own that mirrors the worker's initialised one, but for
// the backend settings, which name the stack's prefix.
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

// What Terraform or tfcompute keep in a template's directory that a job must
// not see: another process's data directory, left-over errored state, the
// init lock.
const NOT_LINKED = new Set(['.terraform', 'errored.tfstate', '.tfcompute-init.lock']);

// How many levels above the template its local modules reach, from the
// module manifest `terraform init` wrote in the data directory.
export async function moduleReach(dataDir: string): Promise<number> {
  let manifest: { Modules?: Array<{ Dir?: string }> };
  try {
    manifest = JSON.parse(await readFile(path.join(dataDir, 'modules', 'modules.json'), 'utf8')) as typeof manifest;
  } catch {
    return 0;
  }
  let reach = 0;
  for (const { Dir } of manifest.Modules ?? []) {
    const parts = path.normalize(Dir ?? '.').split(path.sep);
    const up = parts.findIndex((part) => part !== '..');
    reach = Math.max(reach, up === -1 ? parts.length : up);
  }
  return reach;
}

// Makes `root` mirror the template, `reach` levels up; returns the directory
// to run Terraform in (the template's mirror). The caller removes `root`.
export async function makeJobDir(templateDir: string, reach: number, root: string): Promise<string> {
  const chain: string[] = [];
  let source = templateDir;
  for (let level = 0; level < reach; level += 1) {
    chain.unshift(path.basename(source));
    source = path.dirname(source);
  }
  let target = root;
  await mkdir(target, { recursive: true, mode: 0o700 });
  for (const name of chain) {
    await linkEntries(source, target, name);
    source = path.join(source, name);
    target = path.join(target, name);
    await mkdir(target, { mode: 0o700 });
  }
  await linkEntries(source, target, undefined);
  return target;
}

async function linkEntries(source: string, target: string, except: string | undefined): Promise<void> {
  for (const name of await readdir(source)) {
    if (name === except || NOT_LINKED.has(name)) continue;
    await symlink(path.join(source, name), path.join(target, name));
  }
}

// What `terraform init` wrote in a data directory that is the backend's, not
// the configuration's: the backend settings (rewritten per stack) and the
// selected workspace (chosen per command with TF_WORKSPACE).
const BACKEND_FILE = 'terraform.tfstate';
const NOT_MIRRORED = new Set([BACKEND_FILE, 'environment']);

// Makes `target` a data directory like `dataDir` whose S3 backend has
// `workspace_key_prefix` set to `prefix`. Terraform reads the backend's
// settings from this file on every command but init, and checks only that
// the configuration's backend block is unchanged (its hash, kept), so it
// runs as if initialised with `-backend-config=workspace_key_prefix=<prefix>`,
// without an init per job. Returns undefined for a backend other than S3,
// which has no such setting: its state is where that backend keeps it.
export async function makeJobDataDir(dataDir: string, prefix: string, target: string): Promise<string | undefined> {
  let recorded: { backend?: { type?: string; config?: Record<string, unknown> } };
  try {
    recorded = JSON.parse(await readFile(path.join(dataDir, BACKEND_FILE), 'utf8')) as typeof recorded;
  } catch {
    return undefined;
  }
  if (recorded.backend?.type !== 's3' || !recorded.backend.config) return undefined;
  recorded.backend.config.workspace_key_prefix = prefix;
  await mkdir(target, { recursive: true, mode: 0o700 });
  for (const name of await readdir(dataDir)) {
    if (!NOT_MIRRORED.has(name)) await symlink(path.join(dataDir, name), path.join(target, name));
  }
  await writeFile(path.join(target, BACKEND_FILE), JSON.stringify(recorded), { mode: 0o600 });
  return target;
}
