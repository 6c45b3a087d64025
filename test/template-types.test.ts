// Terraform is the authority on a template's inputs. Randomised request
// bodies go through both the API's schema for the typed template and real
// Terraform (a variables-only copy of the template, one output per variable,
// local state: no provider, no backend). No body the API accepts may be one
// Terraform refuses, and where both accept, Terraform must read exactly the
// value the API stored (optional attributes' defaults and set order aside,
// which are Terraform's to apply).
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import fc from 'fast-check';
import { canonicalJson, loadCatalogue, type Template } from '../core/templates/index.ts';
import type { TfType } from '../core/templates/manifest.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TYPED = path.join(ROOT, 'test', 'templates', 'typed');
const OPERATOR_SET = { resource_id: 'abcdefghijklmnop', subnet_id: 'subnet-1' };

let dir: string;
let template: Template;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tfc-types-'));
  template = (
    await loadCatalogue({ templatesDir: path.join(ROOT, 'test', 'templates'), singleDir: '' }, { canEncrypt: true })
  ).get('typed') as Template;
  await copyFile(path.join(TYPED, 'variables.tf'), path.join(dir, 'variables.tf'));
  const outputs = template.variables.map(
    (v) => `output "${v.name}" {\n  value     = var.${v.name}\n  sensitive = ${v.sensitive}\n}\n`,
  );
  await writeFile(path.join(dir, 'outputs.tf'), outputs.join('\n'));
  await writeFile(path.join(dir, 'cli.tfrc'), '');
  const init = await terraform(['init', '-input=false', '-no-color']);
  assert.equal(init.exitCode, 0, init.stderr);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function terraform(args: string[]) {
  return execa('terraform', args, {
    cwd: dir,
    reject: false,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TF_CLI_CONFIG_FILE: path.join(dir, 'cli.tfrc'),
      TF_IN_AUTOMATION: '1',
    },
    extendEnv: false,
  });
}

// What Terraform reads for the variables the body sets: the value, or null.
async function terraformReads(
  body: Record<string, unknown>,
): Promise<{ accepted: boolean; outputs: Record<string, unknown>; stderr: string }> {
  await writeFile(path.join(dir, 'vars.json'), JSON.stringify({ ...OPERATOR_SET, ...body }));
  const result = await terraform([
    'apply',
    '-auto-approve',
    '-input=false',
    '-no-color',
    '-lock=false',
    '-var-file=vars.json',
  ]);
  if (result.exitCode !== 0) return { accepted: false, outputs: {}, stderr: result.stderr };
  const state = JSON.parse(await readFile(path.join(dir, 'terraform.tfstate'), 'utf8')) as {
    outputs: Record<string, { value: unknown }>;
  };
  return {
    accepted: true,
    outputs: Object.fromEntries(Object.entries(state.outputs).map(([k, v]) => [k, v.value])),
    stderr: '',
  };
}

// The value Terraform should hold for a stored one: optional attributes
// filled in (their default, or null), sets in a canonical order.
function expected(type: TfType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type.kind) {
    case 'object':
      return Object.fromEntries(
        Object.entries(type.attributes).map(([name, attribute]) => {
          const given = (value as Record<string, unknown>)[name];
          return [
            name,
            given === undefined ? expected(attribute.type, attribute.default ?? null) : expected(attribute.type, given),
          ];
        }),
      );
    case 'list':
      return (value as unknown[]).map((item) => expected(type.element, item));
    case 'set':
      return (value as unknown[]).map((item) => expected(type.element, item)).sort(byCanonical);
    case 'tuple':
      return (value as unknown[]).map((item, i) => expected(type.elements[i] as TfType, item));
    case 'map':
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, expected(type.element, v)]),
      );
    default:
      return value;
  }
}

function byCanonical(a: unknown, b: unknown): number {
  const [x, y] = [canonicalJson(a), canonicalJson(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function observed(type: TfType, value: unknown): unknown {
  return type.kind === 'set' && Array.isArray(value) ? [...value].sort(byCanonical) : value;
}

// Mostly values near what the typed template allows, often just outside it,
// sometimes anything at all.
const text = fc.oneof(
  fc.constantFrom(
    'abc',
    'web-1',
    'ab',
    'a'.repeat(20),
    'a'.repeat(21),
    'Abc',
    '1abc',
    'small',
    'medium',
    'large',
    'huge',
    'a',
    'b',
    'c',
    'd',
    '',
    'AWS:x',
    'aws:',
    'awsx',
    'café',
    'cafe\u0301',
    '👩‍👩‍👧',
    'x'.repeat(33),
    'true',
    '2',
    '${x}',
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);
const number = fc.oneof(
  fc.constantFrom(0, 1, 2, 9, 10, 1.5, 0.5, 0.999, 1e-9, -1, 22, 65535, 65536),
  fc.integer({ min: -3, max: 70_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -2, max: 12 }),
);
const anything = fc.jsonValue({ maxDepth: 2 });
const VALUES: Record<string, fc.Arbitrary<unknown>> = {
  name: text,
  size: text,
  replicas: number,
  ratio: number,
  enabled: fc.oneof(fc.boolean(), fc.constantFrom('true', 1)),
  labels: fc.dictionary(text, text, { maxKeys: 7 }),
  zones: fc.array(text, { maxLength: 4 }),
  ports: fc.array(number, { maxLength: 3 }),
  network: fc.record(
    {
      cidr: text,
      private: fc.oneof(fc.boolean(), fc.constant(null)),
      dns: fc.array(text, { maxLength: 2 }),
      mtu: number,
      vlan: number,
    },
    { requiredKeys: [] },
  ),
  pair: fc.oneof(fc.tuple(text, number), fc.tuple(text, number, number), fc.tuple(number, text)),
  extra: anything,
  notes: fc.oneof(text, fc.string({ maxLength: 45 })),
  strict_flag: fc.boolean(),
  password: text,
};
// Values the typed template allows.
const VALID: Record<string, fc.Arbitrary<unknown>> = {
  name: fc.stringMatching(/^[a-z][a-z0-9-]{2,19}$/),
  size: fc.constantFrom('small', 'medium', 'large'),
  replicas: fc.integer({ min: 1, max: 9 }),
  ratio: fc.double({ min: 0.001, max: 0.999, noNaN: true }),
  enabled: fc.oneof(fc.boolean(), fc.constant(null)),
  labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z:._-]{0,15}$/), fc.string({ maxLength: 32 }), { maxKeys: 5 }),
  zones: fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }),
  ports: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 3 }),
  network: fc.record(
    {
      cidr: fc.string(),
      private: fc.boolean(),
      dns: fc.array(fc.string(), { maxLength: 2 }),
      mtu: fc.integer({ min: 500, max: 9000 }),
    },
    { requiredKeys: ['cidr'] },
  ),
  pair: fc.tuple(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  extra: anything,
  notes: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(null)),
  strict_flag: fc.boolean(),
  password: fc.string(),
};
const validBody = fc.record(VALID, { requiredKeys: ['name'] });
const chaos = fc.oneof(...Object.values(VALUES), anything, fc.constant(null));
// A valid body with one input replaced by a value near or outside its bounds.
const mutatedBody = fc
  .tuple(
    validBody,
    fc.constantFrom(...Object.keys(VALUES)),
    fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: chaos }),
  )
  .chain(([valid, key, replacement]) =>
    (replacement === undefined ? (VALUES[key] as fc.Arbitrary<unknown>) : fc.constant(replacement)).map((value) => ({
      ...valid,
      [key]: value,
    })),
  );
const chaoticBody = fc.record(
  Object.fromEntries(
    Object.entries(VALUES).map(([name, values]) => [
      name,
      fc.oneof(
        { weight: 6, arbitrary: values },
        { weight: 1, arbitrary: anything },
        { weight: 1, arbitrary: fc.constant(null) },
      ),
    ]),
  ),
  { requiredKeys: [] },
);
const body = fc.oneof(validBody, { weight: 3, arbitrary: mutatedBody }, chaoticBody) as fc.Arbitrary<
  Record<string, unknown>
>;

test('no input the API accepts is refused by Terraform, and Terraform reads every accepted value as the API stored it', {
  timeout: 600_000,
}, async () => {
  // Only variables whose every validation the API checks: the others are
  // left to Terraform by design (see the templates test).
  const checked = template.inputs
    .filter((input) => input.validations.every((v) => v.complete))
    .map((input) => input.name);
  assert.deepEqual([...checked].sort(), Object.keys(VALUES).sort(), 'the generator covers every fully checked input');
  const seen = { accepted: 0, refusedByBoth: 0, refusedByApiOnly: 0 };
  await fc.assert(
    fc.asyncProperty(body, async (generated) => {
      // As a request body arrives: JSON (so -0 is 0, as the API stores it).
      const input = JSON.parse(JSON.stringify(generated)) as Record<string, unknown>;
      const api = template.inputsSchema.safeParse(input);
      const tf = await terraformReads(input);
      if (!api.success) {
        if (tf.accepted) seen.refusedByApiOnly++;
        else seen.refusedByBoth++;
        return;
      }
      assert.ok(
        tf.accepted,
        `the API accepted ${JSON.stringify(input)} and Terraform refused it: ${tf.stderr.slice(-1500)}`,
      );
      seen.accepted++;
      for (const variable of template.inputs) {
        const stored = variable.name in input ? input[variable.name] : variable.default;
        assert.deepEqual(
          observed(variable.type, tf.outputs[variable.name] ?? null),
          expected(variable.type, stored),
          `${variable.name}: Terraform read what the API stored, for ${JSON.stringify(input)}`,
        );
      }
    }),
    { numRuns: 150, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
  );
  console.log(`types: ${JSON.stringify(seen)}`);
  assert.ok(seen.accepted >= 10, `enough accepted inputs to compare values: ${JSON.stringify(seen)}`);
});
