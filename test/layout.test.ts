// The house rules of the source tree, checked on the import graph and the
// files themselves: each process loads only what it needs, and no file grows
// into a room of its own.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { functionSpans } from './support/function-lengths.ts';
import { ROOT } from './support/harness.ts';

// `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`.
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\('([^']+)'\)/g;
const MAX_LINES = 300;
const MAX_FUNCTION_LINES = 60;
const MAX_LINE_LENGTH = 120;

// Each file's project imports, resolved to paths from the root.
async function imports(file: string): Promise<string[]> {
  const text = await readFile(path.join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(IMPORT)].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
  return specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), s)));
}

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

// Every module `entry` loads, directly or not: project files and packages.
async function importGraph(entry: string): Promise<{ files: Set<string>; packages: Set<string> }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (files.has(file)) return;
    files.add(file);
    const text = await readFile(path.join(ROOT, file), 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? '';
      if (specifier.startsWith('.'))
        await visit(path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)));
      else if (!specifier.startsWith('node:'))
        packages.add(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        );
    }
  };
  await visit(entry);
  return { files, packages };
}

test('the worker process loads no HTTP or OpenAPI code, and the API process no worker code', async () => {
  const worker = await importGraph('worker/main.ts');
  for (const name of ['@asteasolutions/zod-to-openapi', 'express', 'swagger-ui-express', 'helmet']) {
    assert.ok(!worker.packages.has(name), `the worker loads ${name}`);
  }
  assert.deepEqual(
    [...worker.files].filter((f) => f.startsWith('api/')),
    [],
  );
  const api = await importGraph('api/main.ts');
  assert.deepEqual(
    [...api.files].filter((f) => f.startsWith('worker/')),
    [],
  );
  assert.ok(!api.packages.has('@aws-sdk/client-s3'), 'the API never touches state');
  // The HCL parser costs ~110 MB: it runs in a short-lived child process.
  for (const graph of [worker, api])
    assert.ok(!graph.packages.has('@cdktn/hcl2json'), 'a long-running process loads the HCL parser');
  assert.ok((await importGraph('core/templates/module-reader.ts')).packages.has('@cdktn/hcl2json'));
});

test(`no source file under api/, core/ or worker/ is over ${MAX_LINES} lines, and no Lua lives in TypeScript`, async () => {
  const files = [...(await sources('api')), ...(await sources('core')), ...(await sources('worker'))];
  assert.ok(files.length > 30);
  const long: string[] = [];
  for (const file of files) {
    const text = await readFile(path.join(ROOT, file), 'utf8');
    const lines = text.split('\n').length;
    if (lines > MAX_LINES) long.push(`${file}: ${lines}`);
    assert.doesNotMatch(text, /redis\.call\(/, `${file} holds Lua; scripts live in core/store/lua/`);
  }
  assert.deepEqual(long, []);
});

// The worker's rooms: jobs/ runs Terraform through terraform/; webhooks/
// stands apart from both; the files at worker/'s top wire them up and are
// imported by none of them but the shared vocabulary (job-failure.ts) and
// the queues' options (queues.ts).
const ROOM_MAY_IMPORT: Record<string, RegExp> = {
  'worker/jobs/': /^(core\/|worker\/(jobs|terraform)\/|worker\/(job-failure|queues)\.ts$)/,
  'worker/terraform/': /^(core\/|worker\/terraform\/|worker\/job-failure\.ts$)/,
  'worker/webhooks/': /^(core\/|worker\/webhooks\/|worker\/queues\.ts$)/,
};

test("the worker's rooms import only downwards, and nothing under api/, core/ or worker/ imports in a cycle", async () => {
  const files = [...(await sources('api')), ...(await sources('core')), ...(await sources('worker'))];
  const graph = new Map(await Promise.all(files.map(async (file) => [file, await imports(file)] as const)));
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const room = Object.keys(ROOM_MAY_IMPORT).find((prefix) => file.startsWith(prefix));
    if (room) wrong.push(...targets.filter((t) => !ROOM_MAY_IMPORT[room]?.test(t)).map((t) => `${file} -> ${t}`));
  }
  assert.deepEqual(wrong, []);
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    trail.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...trail.slice(trail.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    trail.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});

test(`no function under api/, core/ or worker/ is over ${MAX_FUNCTION_LINES} lines of its own`, async () => {
  const long: string[] = [];
  for (const file of [...(await sources('api')), ...(await sources('core')), ...(await sources('worker'))]) {
    for (const span of functionSpans(await readFile(path.join(ROOT, file), 'utf8'))) {
      if (span.lines > MAX_FUNCTION_LINES) long.push(`${file}:${span.line}: ${span.lines} lines`);
    }
  }
  assert.deepEqual(long, []);
});

test('the function-length scanner counts a function and leaves out its nested ones and tables', () => {
  // Braces in strings, templates and regular expressions are not blocks.
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `  const a${i} = \`\${'{'}\` + '}' + /[{]/.source;`);
  const entries = (n: number) => lines(n).map((line) => line.replace(/const (a\d+) =/, '$1:').replace(/;$/, ','));
  const items = (n: number) => lines(n).map((line) => line.replace(/const a\d+ =/, '').replace(/;$/, ','));
  const source = [
    'const TABLE = {',
    ...entries(70),
    '};',
    // A long body is counted, blocks and all; the function inside it apart.
    'function outer(x: { a: string }): void {',
    ...lines(3),
    '  const inner = (): number => {',
    ...lines(70),
    '    return 1;',
    '  };',
    '  if (x) {',
    ...lines(2),
    '  }',
    '}',
    // A table returned by a function is not its body; a handler in the table
    // is a function of its own.
    'function routes(): unknown[] {',
    '  const extra = [',
    ...items(70),
    '  ];',
    '  return [',
    '    {',
    ...entries(70),
    '      handle: (y: number) => {',
    ...lines(2),
    '        return y;',
    '      },',
    '    },',
    '    ...extra,',
    '  ];',
    '}',
    // A case's braces are a block, not an object.
    'function choose(x: string): number {',
    '  switch (x) {',
    "    case 'a': {",
    ...lines(2),
    '      return 1;',
    '    }',
    '    default:',
    '      return 2;',
    '  }',
    '}',
  ].join('\n');
  assert.deepEqual(
    functionSpans(source)
      .map((s) => s.lines)
      .sort((a, b) => a - b),
    [5, 6, 9, 11, 73],
  );
});

test(`no line of TypeScript or Lua under api/, core/ or worker/ is over ${MAX_LINE_LENGTH} characters`, async () => {
  const files: string[] = [];
  for (const dir of ['api', 'core', 'worker']) {
    const entries = await readdir(path.join(ROOT, dir), { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (e.isFile() && /\.(ts|lua)$/.test(e.name)) files.push(path.relative(ROOT, path.join(e.parentPath, e.name)));
    }
  }
  assert.ok(files.some((f) => f.startsWith('core/store/lua/') && f.endsWith('.lua')));
  const long: string[] = [];
  for (const file of files) {
    const lines = (await readFile(path.join(ROOT, file), 'utf8')).split('\n');
    for (const [i, line] of lines.entries()) {
      if (line.length > MAX_LINE_LENGTH) long.push(`${file}:${i + 1}: ${line.length} characters`);
    }
  }
  assert.deepEqual(long, []);
});
