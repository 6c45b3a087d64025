// The EC2 module against the real AWS provider, installed offline from a
// local filesystem mirror (support/provider-mirror.ts): `terraform validate`
// of the module and both examples runs the provider's own validators, and
// the module's `terraform test` files (module-ec2-instance/tests, the
// provider mocked) put every check and planned argument through the real
// module. Without a mirror these tests skip, naming what is missing.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { ROOT } from './support/harness.ts';
import { findProviderMirror, mirrorCandidates, platform, writeMirrorCliConfig } from './support/provider-mirror.ts';

const mirror = await findProviderMirror();
const EXAMPLES = ['minimal', 'complete'];

describe('the EC2 module with the real AWS provider', { skip: 'missing' in mirror ? mirror.missing : false }, () => {
  let dir: string;
  let module: string;
  let env: Record<string, string>;

  function terraform(cwd: string, args: string[]) {
    return execa('terraform', [...args, '-no-color'], { cwd, env, extendEnv: false, reject: false, timeout: 150_000 });
  }

  // A copy, so that init's .terraform and lock files stay out of the tree;
  // the examples keep their "../.." path to the module. Each root is
  // initialised once: the provider is linked from the mirror, not copied.
  before(async () => {
    if ('missing' in mirror) return;
    dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-ec2-module-'));
    module = path.join(dir, 'module-ec2-instance');
    await cp(path.join(ROOT, 'module-ec2-instance'), module, {
      recursive: true,
      filter: (source) => !/\.terraform(\.lock\.hcl)?$/.test(source),
    });
    await writeMirrorCliConfig(path.join(dir, 'cli.tfrc'), mirror.root);
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TF_CLI_CONFIG_FILE: path.join(dir, 'cli.tfrc'),
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
    };
    for (const root of [module, ...EXAMPLES.map((example) => path.join(module, 'examples', example))]) {
      const init = await terraform(root, ['init', '-input=false', '-backend=false']);
      assert.equal(
        init.exitCode,
        0,
        `terraform init in ${path.relative(dir, root)} from the mirror at ${mirror.root} (versions ${mirror.versions.join(', ')}):\n${init.stdout}${init.stderr}`,
      );
    }
  });
  after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  test('the module is valid against the provider schema and validators, its test files included', async () => {
    const result = await terraform(module, ['validate']);
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  });

  for (const example of EXAMPLES) {
    test(`the ${example} example is valid against the provider schema and validators`, async () => {
      const result = await terraform(path.join(module, 'examples', example), ['validate']);
      assert.equal(result.exitCode, 0, result.stdout + result.stderr);
    });
  }

  test('terraform test passes: every check fails on its failing input and passes on its twin, and the planned arguments hold', async () => {
    const result = await terraform(module, ['test']);
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
    // Every run block ran: a test file Terraform did not find would pass too.
    const files = (await readdir(path.join(module, 'tests'))).filter((file) => file.endsWith('.tftest.hcl'));
    const runs =
      (await Promise.all(files.map((file) => readFile(path.join(module, 'tests', file), 'utf8'))))
        .join('')
        .match(/^run "/gm)?.length ?? 0;
    assert.ok(runs > 0, 'the module has terraform test runs');
    assert.match(result.stdout, new RegExp(`Success! ${runs} passed, 0 failed\\.`), result.stdout);
  });
});

test('the mirror is found in either layout, the setting first, and its absence names where the tests looked', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-mirror-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const unpacked = path.join(dir, 'unpacked', 'registry.terraform.io', 'hashicorp', 'aws', '5.100.0', platform());
  await mkdir(unpacked, { recursive: true });
  await writeFile(path.join(unpacked, 'terraform-provider-aws_v5.100.0_x5'), '');
  const packed = path.join(dir, 'packed', 'registry.terraform.io', 'hashicorp', 'aws');
  await mkdir(packed, { recursive: true });
  await writeFile(path.join(packed, `terraform-provider-aws_6.25.0_${platform()}.zip`), '');
  await mkdir(path.join(dir, 'empty'));

  assert.deepEqual(await findProviderMirror([path.join(dir, 'empty'), path.join(dir, 'unpacked')]), {
    root: path.join(dir, 'unpacked'),
    versions: ['5.100.0'],
  });
  assert.deepEqual(await findProviderMirror([path.join(dir, 'packed')]), {
    root: path.join(dir, 'packed'),
    versions: ['6.25.0'],
  });
  const absent = await findProviderMirror([path.join(dir, 'empty'), path.join(dir, 'nowhere')]);
  assert.ok('missing' in absent);
  assert.match(
    absent.missing,
    new RegExp(
      `no filesystem mirror of registry\\.terraform\\.io/hashicorp/aws for ${platform()} \\(set TEST_PROVIDER_MIRROR to one; looked in .*empty, .*nowhere\\)`,
    ),
  );

  const candidates = mirrorCandidates({ TEST_PROVIDER_MIRROR: '/srv/mirror', HOME: '/home/ci' });
  assert.equal(candidates[0], '/srv/mirror');
  assert.ok(
    candidates.includes('/home/ci/.terraform.d/plugins') &&
      candidates.includes('/usr/share/terraform/plugins') &&
      candidates.includes('/opt/tf-plugins'),
  );
});
