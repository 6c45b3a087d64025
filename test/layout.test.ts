// The house rules of the source tree, checked on the import graph and the
// files themselves: each process loads only what it needs, and no file grows
// into a room of its own.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './support/harness.ts';

// `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`.
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\('([^']+)'\)/g;
const MAX_LINES = 300;

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
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
      if (specifier.startsWith('.')) await visit(path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)));
      else if (!specifier.startsWith('node:')) packages.add(specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
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
  assert.deepEqual([...worker.files].filter((f) => f.startsWith('api/')), []);
  const api = await importGraph('api/main.ts');
  assert.deepEqual([...api.files].filter((f) => f.startsWith('worker/')), []);
  assert.ok(!api.packages.has('@aws-sdk/client-s3'), 'the API never touches state');
  // The HCL parser costs ~110 MB: it runs in a short-lived child process.
  for (const graph of [worker, api]) assert.ok(!graph.packages.has('@cdktn/hcl2json'), 'a long-running process loads the HCL parser');
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
