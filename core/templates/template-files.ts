// A template's files on disk: which directories of TEMPLATES_DIR are
// templates, their variables (read by module-reader.ts in a child process, so
// no long-running process loads the HCL parser), their optional
// template.json, and the hash of their content that is their version.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ConfigError } from '../config.ts';
import { LEGACY_TEMPLATE } from '../legacy.ts';
import { type ModuleManifest, ReaderOutput } from './manifest.ts';
import { type TemplateOptions, TemplateOptionsFile } from './template-options.ts';

export const TEMPLATE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
// Paths under /api that are not templates.
const RESERVED_NAMES = new Set(['templates', 'jobs', 'webhooks', 'event-types']);

export type TemplateSource = { templatesDir: string | undefined; singleDir: string };

const READER = fileURLToPath(new URL('./module-reader.ts', import.meta.url));

export async function templateDirs(source: TemplateSource): Promise<Map<string, string>> {
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
        `template ${dir}: the directory name is the template's name and route, so it must match ` +
          `${TEMPLATE_NAME.source}`,
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

export async function readModules(dirs: string[]): Promise<ModuleManifest[]> {
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

export async function readOptions(dir: string): Promise<TemplateOptions> {
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
