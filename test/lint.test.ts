// The non-TypeScript sources meet their own tools' standards.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { ROOT } from './support/harness.ts';

test('Terraform files are formatted (terraform fmt -check)', async () => {
  const result = await execa(
    'terraform',
    ['fmt', '-check', '-recursive', '-list=true', 'tf', 'module-ec2-instance', 'test/fixtures'],
    {
      cwd: ROOT,
      reject: false,
      env: { TF_CLI_CONFIG_FILE: path.join(ROOT, 'worker', 'terraform.rc') },
    },
  );
  assert.equal(result.exitCode, 0, `not formatted:\n${result.stdout}${result.stderr}`);
});

test('shell scripts are shellcheck-clean', async () => {
  const scripts = (await readdir(path.join(ROOT, 'scripts')))
    .filter((name) => name.endsWith('.sh'))
    .map((name) => path.join('scripts', name));
  assert.ok(scripts.length >= 3);
  const result = await execa('shellcheck', ['-x', '.ci/run', ...scripts], { cwd: ROOT, reject: false });
  assert.equal(result.exitCode, 0, result.stdout);
});
