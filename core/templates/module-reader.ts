// Reads Terraform root modules' variables, outputs and local module sources
// with HashiCorp's HCL parser (compiled to WASM: @cdktn/hcl2json). Loading it
// costs ~110 MB, so this runs as a short-lived child process at start-up
// (see catalogue.ts) and never inside the API or a worker:
//
//   node core/templates/module-reader.ts <dir> [<dir> ...]
//
// prints one JSON line, a ReaderOutput (see manifest.ts).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { getExpressionAst, parse } from '@cdktn/hcl2json';
import { constraintsOf } from './constraints.ts';
import type { ModuleManifest, TfAttribute, TfType, VariableSpec } from './manifest.ts';
import { type AstNode, constant } from './hcl-ast.ts';

export class ModuleError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(message);
    this.file = file;
  }
}

type Block = Record<string, unknown>;

export async function readModule(dir: string): Promise<ModuleManifest> {
  const root = await readBlocks(dir, true);
  // The local modules it sources, and theirs in turn.
  const localModules = new Set(root.localModules);
  for (const module of localModules) {
    for (const nested of (await readBlocks(module, false)).localModules) localModules.add(nested);
  }
  return { ...root, localModules: [...localModules] };
}

// `root`: read the variables and outputs too, not only the module sources.
async function readBlocks(dir: string, root: boolean): Promise<ModuleManifest> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.tf')).sort();
  if (files.length === 0) throw new ModuleError(dir, 'no .tf files: not a Terraform root module');
  const variables: VariableSpec[] = [];
  const outputs: ModuleManifest['outputs'] = [];
  const localModules: string[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    let body: Record<string, Record<string, Block[]>>;
    try {
      body = (await parse(name, await readFile(file, 'utf8'))) as typeof body;
    } catch (error) {
      throw new ModuleError(file, `not valid HCL: ${(error as Error).message}`);
    }
    for (const [varName, blocks] of Object.entries(root ? (body.variable ?? {}) : {})) {
      variables.push(await variableSpec(file, varName, blocks[0] ?? {}));
    }
    for (const [outName, blocks] of Object.entries(root ? (body.output ?? {}) : {})) {
      const block = blocks[0] ?? {};
      outputs.push({ name: outName, sensitive: block.sensitive === true, ...describe(block) });
    }
    for (const blocks of Object.values(body.module ?? {})) {
      const source = blocks[0]?.source;
      if (typeof source === 'string' && (source.startsWith('./') || source.startsWith('../')))
        localModules.push(path.resolve(dir, source));
    }
  }
  variables.sort((a, b) => a.name.localeCompare(b.name));
  outputs.sort((a, b) => a.name.localeCompare(b.name));
  return { dir, variables, outputs, localModules };
}

function describe(block: Block): { description?: string } {
  return typeof block.description === 'string' ? { description: block.description } : {};
}

async function variableSpec(file: string, name: string, block: Block): Promise<VariableSpec> {
  const typeSource = typeof block.type === 'string' ? unwrap(block.type) : 'any';
  let type: TfType;
  try {
    type = await typeOf(typeSource);
  } catch (error) {
    throw new ModuleError(file, `variable "${name}": ${(error as Error).message}`);
  }
  const validations = [];
  for (const v of (block.validation as Block[] | undefined) ?? []) {
    const condition = typeof v.condition === 'string' ? unwrap(v.condition) : String(v.condition);
    const translated = await constraintsOf(condition, name);
    validations.push({
      condition,
      error_message: typeof v.error_message === 'string' ? v.error_message : '',
      translated: translated?.constraints ?? null,
      allowsNull: translated?.allowsNull ?? false,
      complete: translated?.complete ?? false,
    });
  }
  return {
    name,
    type,
    ...('default' in block ? { default: block.default } : {}),
    hasDefault: 'default' in block,
    ...describe(block),
    sensitive: block.sensitive === true,
    nullable: block.nullable !== false,
    validations,
  };
}

// hcl2json writes expressions as "${...}".
function unwrap(text: string): string {
  return text.startsWith('${') && text.endsWith('}') ? text.slice(2, -1) : text;
}

export async function typeOf(source: string): Promise<TfType> {
  const node = (await getExpressionAst('type.tf', source)) as AstNode | null;
  if (!node) throw new Error(`cannot read the type ${source}`);
  return typeOfNode(node, source);
}

async function typeOfNode(node: AstNode, source: string): Promise<TfType> {
  const unsupported = () => new Error(`unsupported type constraint ${node.meta?.value ?? source}`);
  if (node.type === 'scopeTraversal') {
    const name = node.meta?.value;
    if (name === 'string' || name === 'number' || name === 'bool' || name === 'any') return { kind: name };
    throw unsupported();
  }
  if (node.type !== 'function') throw unsupported();
  const fn = node.meta?.name;
  const [arg] = node.children;
  if (!arg || node.children.length !== 1) throw unsupported();
  if (fn === 'list' || fn === 'set' || fn === 'map') return { kind: fn, element: await typeOfNode(arg, source) };
  if (fn === 'tuple' && arg.type === 'tuple') {
    return { kind: 'tuple', elements: await Promise.all(arg.children.map((child) => typeOfNode(child, source))) };
  }
  if (fn === 'object' && arg.type === 'object') {
    const attributes: Record<string, TfAttribute> = {};
    for (const [keySource, valueSource] of Object.entries((arg.meta?.items ?? {}) as Record<string, string>)) {
      const key = keySource.startsWith('"') ? (JSON.parse(keySource) as string) : keySource;
      attributes[key] = await attributeOf(valueSource);
    }
    return { kind: 'object', attributes };
  }
  throw unsupported();
}

// An object attribute's type: T, optional(T) or optional(T, default).
async function attributeOf(source: string): Promise<TfAttribute> {
  const node = (await getExpressionAst('type.tf', source)) as AstNode | null;
  if (!node) throw new Error(`cannot read the type ${source}`);
  if (node.type !== 'function' || node.meta?.name !== 'optional')
    return { type: await typeOfNode(node, source), optional: false };
  const [inner, defaultNode] = node.children;
  if (!inner || node.children.length > 2) throw new Error(`unsupported type constraint ${source}`);
  const type = await typeOfNode(inner, source);
  if (!defaultNode) return { type, optional: true };
  const range = (node.meta?.argsRanges as Array<{ start: { byte: number }; end: { byte: number } }> | undefined)?.[1];
  const value = range ? await constant(source.slice(range.start.byte, range.end.byte)) : undefined;
  if (value === undefined) throw new Error(`the default in ${source} is not a constant`);
  return { type, optional: true, default: value.value };
}

async function main(dirs: string[]): Promise<void> {
  try {
    const modules = [];
    for (const dir of dirs) modules.push(await readModule(path.resolve(dir)));
    process.stdout.write(`${JSON.stringify({ ok: true, modules })}\n`);
  } catch (error) {
    if (!(error instanceof ModuleError)) throw error;
    process.stdout.write(`${JSON.stringify({ ok: false, file: error.file, message: error.message })}\n`);
  }
}

if (import.meta.main) await main(process.argv.slice(2));
