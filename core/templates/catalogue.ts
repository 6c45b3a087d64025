// The templates this installation serves: each subdirectory of TEMPLATES_DIR
// (or TF_CWD alone, as the legacy template, see core/legacy.ts), read once at start-up by
// both processes. A template's inputs come from its variable blocks (read by
// module-reader.ts in a child process) and its optional template.json; its
// version is a hash of its files, so the API and the workers can tell
// whether they read the same one. Reading the files is template-files.ts.
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { variableSchema } from './input-schema.ts';
import type { ModuleManifest, VariableSpec } from './manifest.ts';
import type { TemplateOptions, TemplateVariableOption } from './template-options.ts';
import { contentHash, readModules, readOptions, type TemplateSource, templateDirs } from './template-files.ts';

// Set by the service for every job, never by a caller.
export const STACK_ID_VARIABLE = 'resource_id';
// A create request's own field beside the inputs.
const REQUEST_FIELDS = new Set(['ttl']);

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
        `template ${dir}: variable(s) ${sensitive.join(', ')} are sensitive, and a stack's sensitive ` +
          'inputs are only stored encrypted; set ENCRYPTION_KEY (32 random bytes, base64: openssl rand ' +
          '-base64 32), or make them operator-set ("expose": false in template.json)',
      );
    }
    templates.push(template);
  }
  return new Catalogue(templates);
}

function buildTemplate(
  name: string,
  dir: string,
  version: string,
  manifest: ModuleManifest,
  options: TemplateOptions,
): Template {
  checkVariableNames(dir, manifest, options);
  const inputs: TemplateInput[] = [];
  const operatorSet: VariableSpec[] = [];
  for (const variable of manifest.variables) {
    if (variable.name === STACK_ID_VARIABLE) continue;
    const option = options.variables?.[variable.name] ?? {};
    if (option.expose === false) operatorSet.push(variable);
    else inputs.push(templateInput(dir, variable, option));
  }
  const { shape, defaults } = inputsShape(inputs);
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

// The module declares the stack id's variable, and template.json names only
// variables the module declares, never that one.
function checkVariableNames(dir: string, manifest: ModuleManifest, options: TemplateOptions): void {
  const file = path.join(dir, 'template.json');
  const byName = new Map(manifest.variables.map((v) => [v.name, v]));
  if (!byName.has(STACK_ID_VARIABLE)) {
    throw new ConfigError(
      `template ${dir}: declares no variable "${STACK_ID_VARIABLE}"; tfcompute sets it to the stack's id ` +
        '(and Terraform workspace name), so the module must declare it',
    );
  }
  for (const variable of Object.keys(options.variables ?? {})) {
    if (!byName.has(variable))
      throw new ConfigError(`${file}: variables.${variable}: the module declares no such variable`);
    if (variable === STACK_ID_VARIABLE)
      throw new ConfigError(`${file}: variables.${variable}: set by tfcompute, never by a caller or template.json`);
  }
}

// A variable the caller sets, with template.json's description, enum and
// example for it; the enum and the example must be values of the variable.
function templateInput(dir: string, variable: VariableSpec, option: TemplateVariableOption): TemplateInput {
  const file = path.join(dir, 'template.json');
  if (REQUEST_FIELDS.has(variable.name)) {
    throw new ConfigError(
      `template ${dir}: variable "${variable.name}" has the name of a create request's own field; rename ` +
        'it, or set it by the operator ("expose": false in template.json)',
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
  return {
    ...variable,
    ...(description === undefined ? {} : { description }),
    schema,
    ...('example' in option ? { example: option.example } : {}),
  };
}

// The inputs' object schema, each optional when it has a default, and the
// defaults that are not sensitive.
function inputsShape(inputs: readonly TemplateInput[]): {
  shape: Record<string, z.ZodType>;
  defaults: Record<string, unknown>;
} {
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
  return { shape, defaults };
}
