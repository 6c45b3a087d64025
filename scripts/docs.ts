// `npm run docs [-- DIR ...]`: writes the reference part of each module's
// README.md (requirements, providers, modules, resources, inputs and
// outputs) between <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->, from its
// .tf files, as terraform-docs would. Variables and outputs are read by the
// templates' own reader (core/templates/module-reader.ts), so the docs say
// what the API makes of them. Without DIRs: the EC2 module and the
// ec2instance template (tf/). `--check` changes nothing and exits 1 if a
// README is not what it would write (the test suite runs it).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktn/hcl2json';
import type { TfType, VariableSpec } from '../core/templates/manifest.ts';
import { readModule } from '../core/templates/module-reader.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BEGIN = '<!-- BEGIN_TF_DOCS -->';
const END = '<!-- END_TF_DOCS -->';
const DEFAULT_DIRS = ['module-ec2-instance', 'tf'];

type Blocks = {
  terraform?: Array<{
    required_version?: string;
    required_providers?: Array<Record<string, { source?: string; version?: string }>>;
  }>;
  resource?: Record<string, Record<string, unknown[]>>;
  data?: Record<string, Record<string, unknown[]>>;
  module?: Record<string, Array<{ source?: string }>>;
};

// HCL's type syntax again, from the reader's tree.
function typeText(type: TfType): string {
  switch (type.kind) {
    case 'list':
    case 'set':
    case 'map':
      return `${type.kind}(${typeText(type.element)})`;
    case 'object':
      return `object({${Object.entries(type.attributes)
        .map(
          ([name, a]) =>
            `${name} = ${a.optional ? `optional(${typeText(a.type)}${a.default === undefined ? '' : `, ${JSON.stringify(a.default)}`})` : typeText(a.type)}`,
        )
        .join(', ')}})`;
    case 'tuple':
      return `tuple([${type.elements.map(typeText).join(', ')}])`;
    default:
      return type.kind;
  }
}

// Text for a table cell: no pipes, line breaks or markup of its own.
function cell(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('|', '\\|')
    .replace(/\r?\n/g, '<br>');
}

// Code keeps its characters; only a pipe would end the cell.
function code(text: string): string {
  return `\`${text.replaceAll('|', '\\|').replace(/\r?\n/g, ' ')}\``;
}

function registryLink(kind: 'resource' | 'data', type: string, providers: Map<string, string>): string | undefined {
  const provider = type.split('_')[0] ?? '';
  const source = providers.get(provider);
  if (!source) return undefined;
  return `https://registry.terraform.io/providers/${source}/latest/docs/${kind === 'resource' ? 'resources' : 'data-sources'}/${type.slice(provider.length + 1)}`;
}

export async function renderDocs(dir: string): Promise<string> {
  const blocks: Blocks[] = [];
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.tf')).sort()) {
    blocks.push((await parse(name, await readFile(path.join(dir, name), 'utf8'))) as Blocks);
  }
  const manifest = await readModule(dir);
  const terraform = blocks.flatMap((b) => b.terraform ?? []);
  const providers = new Map<string, string>();
  const versions = new Map<string, string>();
  for (const t of terraform) {
    for (const group of t.required_providers ?? []) {
      for (const [name, spec] of Object.entries(group)) {
        providers.set(name, spec.source ?? `hashicorp/${name}`);
        if (spec.version) versions.set(name, spec.version);
      }
    }
  }
  const lines: string[] = [BEGIN, '## Requirements', '', '| Name | Version |', '|------|---------|'];
  const requiredVersion = terraform.find((t) => t.required_version)?.required_version;
  if (requiredVersion) lines.push(`| terraform | ${code(requiredVersion)} |`);
  for (const [name, version] of [...versions].sort()) lines.push(`| ${name} | ${code(version)} |`);
  lines.push('', '## Providers', '', '| Name | Source |', '|------|--------|');
  for (const [name, source] of [...providers].sort()) lines.push(`| ${name} | ${code(source)} |`);

  const modules = blocks.flatMap((b) =>
    Object.entries(b.module ?? {}).map(([name, list]) => ({ name, source: list[0]?.source ?? '' })),
  );
  if (modules.length > 0) {
    lines.push('', '## Modules', '', '| Name | Source |', '|------|--------|');
    for (const m of modules.sort((a, b) => a.name.localeCompare(b.name)))
      lines.push(`| ${m.name} | ${code(m.source)} |`);
  }

  const resources: Array<{ address: string; kind: 'resource' | 'data'; type: string }> = [];
  for (const b of blocks) {
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, named] of Object.entries(b[kind] ?? {})) {
        for (const name of Object.keys(named))
          resources.push({ address: `${kind === 'data' ? 'data.' : ''}${type}.${name}`, kind, type });
      }
    }
  }
  if (resources.length > 0) {
    lines.push('', '## Resources', '', '| Name | Type |', '|------|------|');
    for (const r of resources.sort((a, b) => a.address.localeCompare(b.address))) {
      const link = registryLink(r.kind, r.type, providers);
      const name = r.address.replace(/^data\./, '');
      lines.push(`| ${link ? `[${name}](${link})` : name} | ${r.kind === 'data' ? 'data source' : 'resource'} |`);
    }
  }

  const input = (v: VariableSpec) =>
    `| ${v.name} | ${cell(v.description ?? '')}${v.sensitive ? ' (sensitive)' : ''} | ${code(typeText(v.type))} | ${v.hasDefault ? code(JSON.stringify(v.default ?? null)) : 'n/a'} | ${v.hasDefault ? 'no' : 'yes'} |`;
  const required = manifest.variables.filter((v) => !v.hasDefault);
  const optional = manifest.variables.filter((v) => v.hasDefault);
  lines.push(
    '',
    '## Inputs',
    '',
    '| Name | Description | Type | Default | Required |',
    '|------|-------------|------|---------|:--------:|',
  );
  for (const v of [...required, ...optional]) lines.push(input(v));
  lines.push('', '## Outputs', '', '| Name | Description |', '|------|-------------|');
  for (const o of manifest.outputs)
    lines.push(`| ${o.name} | ${cell(o.description ?? '')}${o.sensitive ? ' (sensitive)' : ''} |`);
  lines.push(END);
  return lines.join('\n');
}

// The README with its reference part as it should be.
async function updated(readmePath: string, dir: string): Promise<{ before: string; after: string }> {
  const before = await readFile(readmePath, 'utf8').catch(() => `# ${path.basename(dir)}\n\n${BEGIN}\n${END}\n`);
  const start = before.indexOf(BEGIN);
  const end = before.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${readmePath} has no ${BEGIN} ... ${END} markers`);
  return { before, after: `${before.slice(0, start)}${await renderDocs(dir)}${before.slice(end + END.length)}` };
}

const args = process.argv.slice(2);
const check = args.includes('--check');
const dirs = args.filter((a) => a !== '--check');
const stale: string[] = [];
for (const dir of (dirs.length > 0 ? dirs : DEFAULT_DIRS).map((d) => path.resolve(ROOT, d))) {
  const readme = path.join(dir, 'README.md');
  const { before, after } = await updated(readme, dir);
  if (before === after) continue;
  if (check) stale.push(path.relative(ROOT, readme));
  else await writeFile(readme, after);
}
if (stale.length > 0) {
  process.stderr.write(`npm run docs: not current (run npm run docs): ${stale.join(', ')}\n`);
  process.exit(1);
}
