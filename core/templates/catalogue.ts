// The templates this installation serves: each subdirectory of TEMPLATES_DIR
// (or TF_CWD alone, as the legacy template, see core/legacy.ts), read once at start-up by
// both processes. A template's inputs come from its variable blocks (read by
// module-reader.ts in a child process) and its optional template.json; its
// version is a hash of its files, so the API and the workers can tell
// whether they read the same one.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { LEGACY_TEMPLATE } from '../legacy.ts';
import { variableSchema } from './input-schema.ts';
import { type ModuleManifest, ReaderOutput, type VariableSpec } from './manifest.ts';
import { type TemplateOptions, TemplateOptionsFile } from './template-options.ts';

export const TEMPLATE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
// Paths under /api that are not templates.
const RESERVED_NAMES = new Set(['templates', 'jobs', 'webhooks', 'event-types']);
// Set by the service for every job, never by a caller.
export const STACK_ID_VARIABLE = 'resource_id';
// A create request's own field beside the inputs.
const REQUEST_FIELDS = new Set(['ttl']);

const READER = fileURLToPath(new URL('./module-reader.ts', import.meta.url));

export type TemplateInput = VariableSpec & { schema: z.ZodType; example?: unknown };

export type Template = Readonly<{
  name: string;
  dir: string;
  description: string;
  version: string;
  // Every variable of the module, and those a caller may set.
  variables: readonly VariableSpec[];
  inputs: readonly TemplateInput[];
  // Variables the operator sets (template.json "expose": false).
  operatorSet: readonly VariableSpec[];
  outputs: ModuleManifest['outputs'];
  // The caller's inputs: exactly the exposed variables, each optional when it has a default.
  inputsSchema: z.ZodObject;
  // The defaults of the exposed variables that have one and are not sensitive.
  defaults: Readonly<Record<string, unknown>>;
}>;

export type TemplateSource = { templatesDir: string | undefined; singleDir: string };

export class Catalogue {
  readonly #templates: ReadonlyMap<string, Template>;

  constructor(templates: readonly Template[]) {
    this.#templates = new Map(templates.map((t) => [t.name, t]));
  }

  get(name: string): Template | undefined {
    return this.#templates.get(name);
  }

  list(): Template[] {
    return [...this.#templates.values()];
  }
}

// Manifests by directory and content hash: reading costs a child process,
// and tests start many APIs and workers on the same few templates. The
// directory is part of the key because a manifest's local module paths are
// resolved from it.
const manifests = new Map<string, ModuleManifest>();

// `canEncrypt`: ENCRYPTION_KEY is set, so sensitive inputs can be stored.
export async function loadCatalogue(source: TemplateSource, options: { canEncrypt: boolean }): Promise<Catalogue> {
  const found = [];
  // The variables depend only on the template's own files.
  for (const [name, dir] of await templateDirs(source)) {
    const ownHash = await contentHash(dir, [dir]);
    found.push({ name, dir, ownHash, key: `${dir}\0${ownHash}` });
  }
  const unread = found.filter(({ key }) => !manifests.has(key));
  const read = await readModules(unread.map(({ dir }) => dir));
  for (const [i, { key }] of unread.entries()) manifests.set(key, read[i] as ModuleManifest);
  const templates: Template[] = [];
  for (const { name, dir, ownHash, key } of found) {
    const manifest = manifests.get(key) as ModuleManifest;
    const version =
      manifest.localModules.length === 0 ? ownHash : await contentHash(dir, [dir, ...manifest.localModules]);
    const template = buildTemplate(name, dir, version, manifest, await readOptions(dir));
    const sensitive = template.inputs.filter((input) => input.sensitive).map((input) => input.name);
    if (sensitive.length > 0 && !options.canEncrypt) {
      throw new ConfigError(
        `template ${dir}: variable(s) ${sensitive.join(', ')} are sensitive, and a stack's sensitive inputs are only stored encrypted; set ENCRYPTION_KEY (32 random bytes, base64: openssl rand -base64 32), or make them operator-set ("expose": false in template.json)`,
      );
    }
    templates.push(template);
  }
  return new Catalogue(templates);
}

async function templateDirs(source: TemplateSource): Promise<Map<string, string>> {
  if (source.templatesDir === undefined) return new Map([[LEGACY_TEMPLATE, source.singleDir]]);
  const root = source.templatesDir;
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  TEMPLATES_DIR: cannot read ${root}: ${(error as Error).message}`);
  }
  const dirs = new Map<string, string>();
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = path.join(root, entry.name);
    if (entry.name.startsWith('.') || !(await stat(dir)).isDirectory()) continue;
    // A directory without .tf files (shared modules, say) is not a template.
    if (!(await readdir(dir)).some((file) => file.endsWith('.tf'))) continue;
    if (!TEMPLATE_NAME.test(entry.name)) {
      throw new ConfigError(
        `template ${dir}: the directory name is the template's name and route, so it must match ${TEMPLATE_NAME.source}`,
      );
    }
    if (RESERVED_NAMES.has(entry.name))
      throw new ConfigError(`template ${dir}: "${entry.name}" is a route of the API itself; rename the directory`);
    dirs.set(entry.name, dir);
  }
  if (dirs.size === 0)
    throw new ConfigError(`invalid configuration:\n  TEMPLATES_DIR: ${root} has no subdirectory with .tf files`);
  return dirs;
}

async function readModules(dirs: string[]): Promise<ModuleManifest[]> {
  if (dirs.length === 0) return [];
  const result = await execa(process.execPath, [READER, ...dirs], {
    timeout: 120_000,
    reject: false,
    extendEnv: false,
    env: {},
  });
  if (result.exitCode !== 0)
    throw new ConfigError(`could not read the templates' variables: ${result.stderr || result.stdout}`);
  const output = ReaderOutput.parse(JSON.parse(result.stdout));
  if (!output.ok) throw new ConfigError(`template file ${output.file}: ${output.message}`);
  return output.modules;
}

async function readOptions(dir: string): Promise<TemplateOptions> {
  const file = path.join(dir, 'template.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  const parsed = TemplateOptionsFile.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

function buildTemplate(
  name: string,
  dir: string,
  version: string,
  manifest: ModuleManifest,
  options: TemplateOptions,
): Template {
  const file = path.join(dir, 'template.json');
  const byName = new Map(manifest.variables.map((v) => [v.name, v]));
  if (!byName.has(STACK_ID_VARIABLE)) {
    throw new ConfigError(
      `template ${dir}: declares no variable "${STACK_ID_VARIABLE}"; tfcompute sets it to the stack's id (and Terraform workspace name), so the module must declare it`,
    );
  }
  for (const variable of Object.keys(options.variables ?? {})) {
    if (!byName.has(variable))
      throw new ConfigError(`${file}: variables.${variable}: the module declares no such variable`);
    if (variable === STACK_ID_VARIABLE)
      throw new ConfigError(`${file}: variables.${variable}: set by tfcompute, never by a caller or template.json`);
  }
  const inputs: TemplateInput[] = [];
  const operatorSet: VariableSpec[] = [];
  for (const variable of manifest.variables) {
    if (variable.name === STACK_ID_VARIABLE) continue;
    const option = options.variables?.[variable.name] ?? {};
    if (option.expose === false) {
      operatorSet.push(variable);
      continue;
    }
    if (REQUEST_FIELDS.has(variable.name)) {
      throw new ConfigError(
        `template ${dir}: variable "${variable.name}" has the name of a create request's own field; rename it, or set it by the operator ("expose": false in template.json)`,
      );
    }
    const schema = variableSchema(variable, option.enum ? { enum: option.enum } : {});
    for (const [field, value] of [
      ['enum', option.enum],
      ['example', option.example === undefined ? undefined : [option.example]],
    ] as const) {
      for (const item of value ?? []) {
        if (!schema.safeParse(item).success)
          throw new ConfigError(
            `${file}: variables.${variable.name}.${field}: ${JSON.stringify(item)} is not a valid value of the variable`,
          );
      }
    }
    const description = option.description ?? variable.description;
    inputs.push({
      ...variable,
      ...(description === undefined ? {} : { description }),
      schema,
      ...('example' in option ? { example: option.example } : {}),
    });
  }
  const shape: Record<string, z.ZodType> = {};
  const defaults: Record<string, unknown> = {};
  for (const input of inputs) {
    const meta = {
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.example === undefined ? {} : { example: input.example }),
      ...(input.hasDefault && !input.sensitive ? { default: input.default } : {}),
      ...(input.sensitive ? { writeOnly: true } : {}),
    };
    shape[input.name] = (input.hasDefault ? input.schema.optional() : input.schema).meta(meta);
    if (input.hasDefault && !input.sensitive) defaults[input.name] = input.default;
  }
  return {
    name,
    dir,
    description: options.description ?? '',
    version,
    variables: manifest.variables,
    inputs,
    operatorSet,
    outputs: manifest.outputs,
    inputsSchema: z.strictObject(shape),
    defaults,
  };
}

// The version: a hash of every file of the template and of the local
// modules it sources (by path relative to the template), so any change to
// what Terraform would run changes it. Hidden files and directories are left
// out: Terraform's .terraform/ and the dependency lock file that init writes
// are not the template's content.
export async function contentHash(base: string, dirs: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of [...new Set(dirs)].sort()) {
    for (const file of await filesUnder(dir)) {
      const content = await readFile(file);
      hash.update(`${path.relative(base, file)}\0${content.length}\0`).update(content);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

async function filesUnder(dir: string, depth = 0): Promise<string[]> {
  if (depth > 16) return [];
  const files: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (
      name.startsWith('.') ||
      name.endsWith('.tfstate') ||
      name.endsWith('.tfstate.backup') ||
      name === 'terraform.tfstate.d'
    )
      continue;
    const full = path.join(dir, name);
    const info = await stat(full);
    if (info.isDirectory()) files.push(...(await filesUnder(full, depth + 1)));
    else if (info.isFile()) files.push(full);
  }
  return files;
}
