// Runs the Terraform binary for a worker process: one initialised data
// directory per process (TF_DATA_DIR), the workspace chosen per command with
// TF_WORKSPACE, argument arrays only, a fixed environment, a timeout, and
// output kept when a command fails.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import lockfile from 'proper-lockfile';
import type { JobError } from '../../core/schemas/index.ts';
import { JobFailure } from '../job-failure.ts';

export type TerraformSettings = {
  bin: string;
  cwd: string;
  dataDir: string;
  backendConfig: string | undefined;
  cliConfigFile: string;
  pluginCacheDir: string | undefined;
  passthroughEnv: Readonly<Record<string, string>>;
  homeDir: string | undefined;
  path: string;
  timeoutMs: number;
  // How long Terraform may take to stop after SIGINT before it is killed.
  graceMs: number;
};

export type RunOptions = {
  workspace: string;
  // Where to run; the configuration's directory when omitted.
  cwd?: string;
  // The data directory; the initialised one when omitted (see makeJobDataDir in job-dir.ts).
  dataDir?: string;
  // Called with each line of stdout as it arrives.
  onLine?: (line: string) => void;
  signal?: AbortSignal;
};

export type RunResult = {
  exitCode: number;
  stdout: string;
  stderr: string;
  // Stopped by our signal (shutdown or cancel) rather than failing by itself.
  interrupted: boolean;
  timedOut: boolean;
};

const MAX_KEPT_OUTPUT = 64 * 1024;

const PDEATHSIG_WRAPPER =
  process.platform === 'linux' ? ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => existsSync(file)) : undefined;

// A Terraform command that failed: which command, in which workspace, with
// the tail of what it printed, and what the user reads about it.
export class TerraformError extends JobFailure {
  override name = 'TerraformError';
  readonly command: string;
  readonly workspace: string;
  readonly exitCode: number;
  readonly output: string;

  constructor(
    detail: JobError,
    command: string,
    workspace: string,
    result: Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>,
  ) {
    super(detail);
    this.command = command;
    this.workspace = workspace;
    this.exitCode = result.exitCode;
    this.output = tail(`${result.stdout}\n${result.stderr}`.trim());
  }
}

export class Terraform {
  readonly settings: TerraformSettings;
  readonly #running = new Set<Promise<unknown>>();

  constructor(settings: TerraformSettings) {
    this.settings = settings;
  }

  // Initialises this process's data directory. Several workers on one host
  // share the configuration directory, where init writes the dependency lock
  // file, so inits are serialised with a lock file beside the configuration.
  async init(): Promise<void> {
    const { cwd, dataDir, backendConfig, pluginCacheDir } = this.settings;
    await mkdir(dataDir, { recursive: true });
    if (pluginCacheDir) await mkdir(pluginCacheDir, { recursive: true });
    const args = ['init', '-input=false', '-no-color'];
    if (backendConfig) args.push(`-backend-config=${backendConfig}`);
    const release = await lockfile.lock(cwd, {
      lockfilePath: path.join(cwd, '.tfcompute-init.lock'),
      stale: 30_000,
      retries: { retries: 600, minTimeout: 100, maxTimeout: 1_000 },
    });
    try {
      const result = await this.run(args, { workspace: 'default' });
      if (result.exitCode !== 0) {
        const message =
          `terraform init in ${cwd} exited with code ${result.exitCode}: ` +
          `${lastLines(`${result.stdout}\n${result.stderr}`)}`;
        throw new TerraformError(
          { code: 'terraform-failed', message, retryable: false, diagnostics: [] },
          'init',
          'default',
          result,
        );
      }
    } finally {
      await release();
    }
  }

  env(workspace: string, dataDir = this.settings.dataDir): Record<string, string> {
    const s = this.settings;
    const env: Record<string, string> = {
      ...s.passthroughEnv,
      PATH: s.path,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      TF_DATA_DIR: dataDir,
      TF_CLI_CONFIG_FILE: s.cliConfigFile,
      TF_WORKSPACE: workspace,
      CHECKPOINT_DISABLE: '1',
    };
    if (s.homeDir) env.HOME = s.homeDir;
    if (s.pluginCacheDir) env.TF_PLUGIN_CACHE_DIR = s.pluginCacheDir;
    return env;
  }

  // Resolves once none of the Terraform processes started here is running.
  async idle(): Promise<void> {
    await Promise.all([...this.#running]);
  }

  async run(args: string[], options: RunOptions): Promise<RunResult> {
    const s = this.settings;
    // Terraform dies with the worker (Linux parent-death signal, set by
    // util-linux setpriv, which then execs Terraform): a worker's state locks
    // are released once it is dead, so nothing it started may still be running.
    const [file, argv] = PDEATHSIG_WRAPPER
      ? [PDEATHSIG_WRAPPER, ['--pdeathsig', 'KILL', '--', s.bin, ...args]]
      : [s.bin, args];
    const subprocess = execa(file, argv, {
      cwd: options.cwd ?? s.cwd,
      env: this.env(options.workspace, options.dataDir),
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      timeout: s.timeoutMs,
      // Terraform treats one SIGINT as "stop after the operations in flight,
      // save state, release the lock"; a second one abandons state. It runs in
      // its own process group so a Ctrl-C at our terminal cannot be that second one.
      killSignal: 'SIGINT',
      forceKillAfterDelay: s.graceMs,
      detached: true,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    const finished = subprocess.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(finished);
    void finished.then(() => this.#running.delete(finished));
    let stdout = '';
    for await (const line of subprocess.iterable({ from: 'stdout' })) {
      const text = String(line);
      if (stdout.length < MAX_KEPT_OUTPUT) stdout += `${text}\n`;
      options.onLine?.(text);
    }
    const result = await subprocess;
    return {
      exitCode: typeof result.exitCode === 'number' ? result.exitCode : -1,
      stdout: stripVTControlCharacters(stdout),
      stderr: stripVTControlCharacters(tail(String(result.stderr ?? ''))),
      interrupted: result.isCanceled === true,
      timedOut: result.timedOut === true,
    };
  }
}

function tail(text: string): string {
  return text.length > MAX_KEPT_OUTPUT ? text.slice(-MAX_KEPT_OUTPUT) : text;
}

function lastLines(text: string): string {
  return tail(text).split('\n').filter(Boolean).slice(-5).join(' | ');
}
