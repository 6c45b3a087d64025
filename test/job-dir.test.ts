// A job's own working directory (worker/terraform/job-dir.ts): Terraform run in it finds
// everything the template reaches by relative path, and what it writes there
// stays there.
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { makeJobDir, moduleReach } from '../worker/terraform/job-dir.ts';
import { ROOT } from './support/harness.ts';

test('a template whose module lives beside it ("../module") applies from a job directory initialised elsewhere, and leaves the template untouched', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-jobdir-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const template = path.join(dir, 'templates', 'web');
  await mkdir(path.join(dir, 'templates', 'shared', 'naming'), { recursive: true });
  await mkdir(template);
  await writeFile(
    path.join(dir, 'templates', 'shared', 'naming', 'main.tf'),
    'variable "id" {}\noutput "name" { value = "web-${var.id}-${trimspace(file("${path.module}/../../web/PREFIX"))}" }\n',
  );
  await writeFile(path.join(template, 'PREFIX'), 'prod\n');
  await writeFile(
    path.join(template, 'main.tf'),
    'module "naming" {\n  source = "../shared/naming"\n  id     = "a1"\n}\noutput "name" { value = module.naming.name }\n',
  );
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TF_DATA_DIR: path.join(dir, 'data'),
    TF_IN_AUTOMATION: '1',
    TF_CLI_CONFIG_FILE: path.join(ROOT, 'worker', 'terraform.rc'),
  };
  await execa('terraform', ['init', '-input=false'], { cwd: template, env, extendEnv: false });

  const listed = (await readdir(template)).sort();
  const reach = await moduleReach(env.TF_DATA_DIR);
  assert.equal(reach, 1, 'the module is one level up');
  const cwd = await makeJobDir(template, reach, path.join(dir, 'jobs', 'job1'));
  assert.equal(cwd, path.join(dir, 'jobs', 'job1', 'web'));
  const applied = await execa('terraform', ['apply', '-auto-approve', '-input=false', '-state=job.tfstate'], {
    cwd,
    env,
    extendEnv: false,
    reject: false,
  });
  assert.equal(applied.exitCode, 0, applied.stderr);
  assert.match(applied.stdout, /name = "web-a1-prod"/);
  await access(path.join(cwd, 'job.tfstate'));
  assert.deepEqual((await readdir(template)).sort(), listed, 'nothing new in the template');
  await assert.rejects(access(path.join(template, 'job.tfstate')), 'what Terraform wrote stays in the job directory');
});

test('a template with no local modules is mirrored by itself, and nothing of another run (errored.tfstate, .terraform) is linked', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-jobdir-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const template = path.join(dir, 'tpl');
  await mkdir(path.join(template, '.terraform'), { recursive: true });
  await writeFile(path.join(template, 'main.tf'), '');
  await writeFile(path.join(template, 'errored.tfstate'), '{}');
  assert.equal(await moduleReach(path.join(dir, 'no-data-dir')), 0);
  const cwd = await makeJobDir(template, 0, path.join(dir, 'job'));
  assert.deepEqual(await readdir(cwd), ['main.tf']);
});
