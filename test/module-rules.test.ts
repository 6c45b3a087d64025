// The EC2 module's and the ec2instance template's validations and checks,
// run by real Terraform on provider-free copies: the variables, the module's
// rules.tf (its locals and checks), and in place of facts.tf (what the AWS
// provider would have read) a variable of the same shape that each case
// sets. Each case says what a user would send and what they would read.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { ROOT } from './support/harness.ts';

const MODULE = path.join(ROOT, 'module-ec2-instance');
const CLI_CONFIG = path.join(ROOT, 'worker', 'terraform.rc');

const FACTS_STUB = `
variable "facts" {
  type = object({
    default_vpc           = bool
    subnets               = map(object({ zone = string, vpc = string }))
    offered_zones         = list(string)
    architectures         = list(string)
    burstable             = bool
    ebs_optimized_support = string
  })
}

locals {
  facts = var.facts
}

output "decisions" {
  value = {
    instance_subnets = local.instance_subnets
    public_ip        = local.public_ip
    ingress          = sort(keys(local.ingress))
    instance_tags    = local.instance_tags
    ebs_optimized    = local.ebs_optimized
  }
}
`;

type Outcome = { errors: string[]; outputs: Record<string, unknown> };

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-rules-'));
});
after(() => rm(dir, { recursive: true, force: true }));

// Applies a copy made of `files` (nothing in it needs a provider) with `vars`.
async function run(name: string, files: Record<string, string>, vars: Record<string, unknown>): Promise<Outcome> {
  const copy = await mkdtemp(path.join(dir, `${name}-`));
  for (const [file, source] of Object.entries(files)) {
    if (source.startsWith('/')) await copyFile(source, path.join(copy, file));
    else await writeFile(path.join(copy, file), source);
  }
  await writeFile(path.join(copy, 'case.tfvars.json'), JSON.stringify(vars));
  const result = await execa(
    'terraform',
    ['apply', '-auto-approve', '-input=false', '-lock=false', '-json', '-var-file=case.tfvars.json'],
    {
      cwd: copy,
      reject: false,
      env: { TF_CLI_CONFIG_FILE: CLI_CONFIG, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
    },
  );
  const errors: string[] = [];
  let outputs: Record<string, unknown> = {};
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line) as {
      '@level': string;
      type: string;
      diagnostic?: { summary: string; detail: string };
      outputs?: Record<string, { value?: unknown }>;
    };
    if (message['@level'] === 'error' && message.diagnostic)
      errors.push(`${message.diagnostic.summary}: ${message.diagnostic.detail.replace(/\s+/g, ' ')}`);
    if (message.type === 'outputs' && message.outputs)
      outputs = Object.fromEntries(Object.entries(message.outputs).map(([k, v]) => [k, v.value]));
  }
  return { errors, outputs };
}

type Facts = {
  default_vpc: boolean;
  subnets: Record<string, { zone: string; vpc: string }>;
  offered_zones: string[];
  architectures: string[];
  burstable: boolean;
  ebs_optimized_support: string;
};

const SUBNETS: Facts['subnets'] = {
  'subnet-0000000a': { zone: 'us-east-1a', vpc: 'vpc-1' },
  'subnet-0000000b': { zone: 'us-east-1b', vpc: 'vpc-1' },
  'subnet-0000000e': { zone: 'us-east-1e', vpc: 'vpc-1' },
};
const FACTS: Facts = {
  default_vpc: true,
  subnets: SUBNETS,
  offered_zones: ['us-east-1a', 'us-east-1b', 'us-east-1e'],
  architectures: ['i386', 'x86_64'],
  burstable: true,
  ebs_optimized_support: 'default',
};

function moduleCase(vars: Record<string, unknown>, facts: Partial<Facts> = {}) {
  return run(
    'module',
    {
      'variables.tf': path.join(MODULE, 'variables.tf'),
      'rules.tf': path.join(MODULE, 'rules.tf'),
      'facts.tf': FACTS_STUB,
    },
    { name: 'stack', ...vars, facts: { ...FACTS, ...facts } },
  );
}

function templateCase(vars: Record<string, unknown>) {
  return run(
    'template',
    { 'variables.tf': path.join(ROOT, 'tf', 'variables.tf') },
    { resource_id: 'abcdefghijklmnop', ...vars },
  );
}

async function accepted(outcome: Promise<Outcome>, what: string): Promise<Outcome> {
  const { errors, outputs } = await outcome;
  assert.deepEqual(errors, [], `${what} is accepted`);
  return { errors, outputs };
}

async function refused(outcome: Promise<Outcome>, message: RegExp, what: string): Promise<void> {
  const { errors } = await outcome;
  assert.ok(
    errors.some((e) => message.test(e)),
    `${what}: expected ${message}, got ${JSON.stringify(errors)}`,
  );
}

describe("the module's variables", () => {
  test('instance_type: any well-formed type name, hyphenated families included', async () => {
    for (const type of ['t3.micro', 'm7i-flex.large', 'u-6tb1.56xlarge'])
      await accepted(moduleCase({ instance_type: type }), type);
    for (const type of ['T3.micro', 't3', 't3.micro extra'])
      await refused(
        moduleCase({ instance_type: type }),
        /instance_type must look like an EC2 instance type, such as t3\.micro or m7i-flex\.large/,
        type,
      );
  });

  test('instance_count and name', async () => {
    for (const n of [0, 11, 1.5])
      await refused(moduleCase({ instance_count: n }), /instance_count must be a whole number from 1 to 10/, String(n));
    await refused(moduleCase({ name: 'a_b' }), /name must be 1-48 letters, digits or hyphens/, 'a_b');
  });

  test('subnet_ids: subnet ids, none repeated; empty means the default VPC', async () => {
    await accepted(moduleCase({ subnet_ids: [] }), 'no subnets');
    await refused(moduleCase({ subnet_ids: ['sn-1'] }), /Every subnet_ids entry must be a subnet id/, 'sn-1');
    await refused(
      moduleCase({ subnet_ids: ['subnet-0000000a', 'subnet-0000000a'] }),
      /subnet_ids must not repeat a subnet/,
      'a repeat',
    );
  });

  test('ingress_cidr_blocks: IPv4 networks with no host bits, named when refused; repeats of blocks and ports are merged', async () => {
    const { outputs } = await accepted(
      moduleCase({
        ingress_cidr_blocks: ['10.0.0.0/8', '203.0.113.0/24', '0.0.0.0/0', '10.0.0.0/8'],
        ingress_ports: [22, 443, 22],
      }),
      'networks with a repeat',
    );
    assert.deepEqual((outputs.decisions as { ingress: string[] }).ingress, [
      '0.0.0.0/0:22',
      '0.0.0.0/0:443',
      '10.0.0.0/8:22',
      '10.0.0.0/8:443',
      '203.0.113.0/24:22',
      '203.0.113.0/24:443',
    ]);
    await refused(
      moduleCase({
        ingress_cidr_blocks: ['10.0.0.5/24', '2001:db8::/32', '10.0.0.0', '300.0.0.0/8', '192.168.0.0/16'],
      }),
      /must be IPv4 networks with no host bits set, such as 10\.0\.0\.0\/24 \(IPv6 is not supported\); these are not: 10\.0\.0\.5\/24, 2001:db8::\/32, 10\.0\.0\.0, 300\.0\.0\.0\/8\./,
      'hosts, IPv6, no prefix, out of range',
    );
  });

  test('ingress_ports, root volume, cpu_credits', async () => {
    for (const port of [0, 65536, 22.5])
      await refused(
        moduleCase({ ingress_ports: [port] }),
        /Every ingress port must be a whole number from 1 to 65535/,
        String(port),
      );
    await refused(moduleCase({ root_volume_size: 7 }), /root_volume_size must be between 8 and 1024 GiB/, '7 GiB');
    for (const type of ['io1', 'io2', 'st1'])
      await refused(moduleCase({ root_volume_type: type }), /root_volume_type must be gp3 or gp2/, type);
    await accepted(moduleCase({ cpu_credits: 'unlimited' }), 'unlimited');
    await refused(moduleCase({ cpu_credits: 'burst' }), /cpu_credits must be standard or unlimited/, 'burst');
  });

  test('tags: keys that differ only in case, Name, and the reserved keys in any case are refused; reserved tags win', async () => {
    await refused(
      moduleCase({ tags: { env: 'a', Env: 'b' } }),
      /Tag keys must differ in more than case \(IAM treats env and Env as one key\): Env, env\./,
      'env/Env',
    );
    await refused(moduleCase({ tags: { name: 'x' } }), /tags may not set Name/, 'name');
    await refused(
      moduleCase({ tags: { 'Managed-By': 'me' }, reserved_tags: { 'managed-by': 'tfcompute' } }),
      /tags may not set Name .* or a key of reserved_tags, in any case: Name, managed-by\./,
      'Managed-By',
    );
    const { outputs } = await accepted(
      moduleCase({ instance_count: 2, tags: { team: 'a' }, reserved_tags: { 'managed-by': 'tfcompute' } }),
      'tags',
    );
    assert.deepEqual((outputs.decisions as { instance_tags: unknown[] }).instance_tags, [
      { team: 'a', 'managed-by': 'tfcompute', Name: 'stack-0' },
      { team: 'a', 'managed-by': 'tfcompute', Name: 'stack-1' },
    ]);
  });
});

describe("the module's checks, from what AWS would say", () => {
  test('the default VPC path: one default subnet per zone that offers the type, instances spread over them, with public addresses', async () => {
    const { outputs } = await accepted(
      moduleCase({ instance_count: 3 }, { offered_zones: ['us-east-1a', 'us-east-1b'] }),
      'default VPC',
    );
    assert.deepEqual(outputs.subnet_ids, ['subnet-0000000a', 'subnet-0000000b'], 'us-east-1e does not offer the type');
    const decisions = outputs.decisions as { instance_subnets: string[]; public_ip: boolean };
    assert.deepEqual(decisions.instance_subnets, ['subnet-0000000a', 'subnet-0000000b', 'subnet-0000000a']);
    assert.equal(decisions.public_ip, true, 'a way out to SSM: the default VPC routes only to an internet gateway');
  });

  test('no default VPC, or no default subnets: the plan stops saying what to set', async () => {
    await refused(
      moduleCase({}, { default_vpc: false, subnets: {} }),
      /This region has no default VPC \(usual in accounts under AWS Control Tower\): set subnet_ids .* TF_VAR_subnet_ids on the workers/,
      'no default VPC',
    );
    await refused(
      moduleCase({}, { subnets: {} }),
      /The default VPC has no default subnets: set subnet_ids/,
      'no default subnets',
    );
  });

  test('no default subnet in a zone offering the type, or a given subnet in a zone that does not offer it: the plan stops naming the zones', async () => {
    await refused(
      moduleCase({ instance_type: 'm7i-flex.large' }, { offered_zones: ['us-east-1c', 'us-east-1d'] }),
      /No default subnet is in a zone that offers m7i-flex\.large \(it is offered in: us-east-1c, us-east-1d\)/,
      'no zone',
    );
    await refused(
      moduleCase(
        { subnet_ids: ['subnet-0000000a', 'subnet-0000000e'] },
        { offered_zones: ['us-east-1a', 'us-east-1b'] },
      ),
      /t3\.micro is not offered in the zone of these subnets: subnet-0000000e \(us-east-1e\)\. It is offered in: us-east-1a, us-east-1b\./,
      'a subnet in us-east-1e',
    );
  });

  test('given subnets: kept in their order, in one VPC, no public address unless asked', async () => {
    const { outputs } = await accepted(
      moduleCase({ instance_count: 3, subnet_ids: ['subnet-0000000b', 'subnet-0000000a'] }),
      'given subnets',
    );
    const decisions = outputs.decisions as { instance_subnets: string[]; public_ip: boolean };
    assert.deepEqual(decisions.instance_subnets, ['subnet-0000000b', 'subnet-0000000a', 'subnet-0000000b']);
    assert.equal(decisions.public_ip, false);
    assert.equal(
      (
        (await moduleCase({ subnet_ids: ['subnet-0000000a'], associate_public_ip_address: true })).outputs
          .decisions as { public_ip: boolean }
      ).public_ip,
      true,
    );
    await refused(
      moduleCase(
        { subnet_ids: ['subnet-0000000a', 'subnet-0000000b'] },
        { subnets: { ...SUBNETS, 'subnet-0000000b': { zone: 'us-east-1b', vpc: 'vpc-2' } } },
      ),
      /subnet_ids must all be in one VPC \(the instances share a security group\); they are in: vpc-1, vpc-2\./,
      'two VPCs',
    );
  });

  test('a type that cannot run the x86_64 AMI (Graviton) stops the plan', async () => {
    await refused(
      moduleCase({ instance_type: 't4g.micro' }, { architectures: ['arm64'] }),
      /t4g\.micro runs arm64, and the AMI is x86_64: choose an x86_64 instance type/,
      't4g.micro',
    );
  });

  test('EBS optimisation is asked for unless the type has none (t2 would fail at launch)', async () => {
    for (const [support, expected] of [
      ['default', true],
      ['supported', true],
      ['unsupported', false],
    ] as const) {
      const { outputs } = await accepted(moduleCase({}, { ebs_optimized_support: support }), support);
      assert.equal((outputs.decisions as { ebs_optimized: boolean }).ebs_optimized, expected, support);
    }
  });
});

describe("the ec2instance template's variables", () => {
  test('tags: the keys tfcompute sets, in any case, and keys that differ only in case are refused', async () => {
    await accepted(templateCase({ tags: { team: 'platform', 'tfcompute-like': 'ok' } }), 'ordinary tags');
    for (const key of ['Name', 'NAME', 'managed-by', 'Managed-By', 'tfcompute:resource-id', 'TFCompute:x']) {
      await refused(
        templateCase({ tags: { [key]: 'x' } }),
        /Name, managed-by and the tfcompute: prefix are set by tfcompute \(in any case\)/,
        key,
      );
    }
    await refused(templateCase({ tags: { env: 'a', Env: 'b' } }), /Tag keys must differ in more than case/, 'env/Env');
    await refused(templateCase({ tags: { 'aws:x': 'y' } }), /The aws: tag prefix is reserved by AWS/, 'aws:');
  });

  test('instance_type and node_count keep their limits', async () => {
    await accepted(templateCase({ instance_type: 'm7i-flex.large' }), 'm7i-flex.large');
    await refused(
      templateCase({ instance_type: 't4g.micro' }),
      /instance_type must be one of the allowed current-generation x86_64 types/,
      't4g.micro',
    );
    await refused(templateCase({ node_count: 11 }), /node_count must be a whole number from 1 to 10/, '11');
  });
});

test('terraform fmt finds nothing to change in the template, the module and its examples', async () => {
  const result = await execa('terraform', ['fmt', '-check', '-recursive', '-list=true', 'tf', 'module-ec2-instance'], {
    cwd: ROOT,
    reject: false,
    env: { TF_CLI_CONFIG_FILE: CLI_CONFIG },
  });
  assert.equal(result.exitCode, 0, `files to format: ${result.stdout}${result.stderr}`);
});

test("the module's and the template's READMEs hold what npm run docs writes", async () => {
  const result = await execa(process.execPath, [path.join(ROOT, 'scripts', 'docs.ts'), '--check'], {
    cwd: ROOT,
    reject: false,
  });
  assert.equal(result.exitCode, 0, result.stderr);
});

test('npm run docs -- --check names a README whose reference part is stale', async () => {
  const copy = await mkdtemp(path.join(dir, 'docs-'));
  for (const file of ['variables.tf', 'outputs.tf', 'versions.tf'])
    await copyFile(path.join(MODULE, file), path.join(copy, file));
  await writeFile(path.join(copy, 'README.md'), '# copy\n\n<!-- BEGIN_TF_DOCS -->\n| stale |\n<!-- END_TF_DOCS -->\n');
  const stale = await execa(process.execPath, [path.join(ROOT, 'scripts', 'docs.ts'), '--check', copy], {
    cwd: ROOT,
    reject: false,
  });
  assert.equal(stale.exitCode, 1);
  assert.match(stale.stderr, /not current \(run npm run docs\): .*README\.md/);
  const written = await execa(process.execPath, [path.join(ROOT, 'scripts', 'docs.ts'), copy], {
    cwd: ROOT,
    reject: false,
  });
  assert.equal(written.exitCode, 0, written.stderr);
  const readme = await readFile(path.join(copy, 'README.md'), 'utf8');
  assert.match(readme, /^# copy\n\n<!-- BEGIN_TF_DOCS -->\n## Requirements/);
  assert.match(
    readme,
    /\| name \| Name prefix of every object the module creates; instances are named "&lt;name&gt;-&lt;index&gt;"\. \| `string` \| n\/a \| yes \|/,
  );
  assert.match(readme, /\| subnet_ids \| .* \| `list\(string\)` \| `\[\]` \| no \|/);
  assert.match(readme, /\| module_version \| This module's version/);
});

test('the worker IAM policy is a well-formed policy document that covers what the module calls', async () => {
  const policy = JSON.parse(await readFile(path.join(MODULE, 'worker-iam-policy.json'), 'utf8')) as {
    Version: string;
    Statement: Array<{ Sid: string; Effect: string; Action: string | string[]; Resource: string | string[] }>;
  };
  assert.equal(policy.Version, '2012-10-17');
  const actions = policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  for (const needed of [
    'ec2:RunInstances',
    'ec2:DescribeInstanceTypeOfferings',
    'ec2:DescribeInstanceTypes',
    'ec2:DescribeVpcs',
    'ec2:DescribeSubnets',
    'iam:PutRolePolicy',
    'iam:PassRole',
    'ssm:GetParameter',
  ]) {
    assert.ok(actions.includes(needed), needed);
  }
  assert.ok(!actions.some((a) => a.endsWith(':*') || a === '*'), 'no wildcard actions');
  assert.ok(policy.Statement.every((s) => s.Sid && s.Effect === 'Allow' && s.Resource));
});
