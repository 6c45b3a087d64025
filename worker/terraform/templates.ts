// The templates as a worker runs them: one initialised Terraform per
// template (its own data directory, Terraform run in the template's
// directory), and the rule that a job runs only on the template version the
// API validated its inputs against.
import path from 'node:path';
import { type Config, ConfigError } from '../../core/config.ts';
import { within } from '../../core/within.ts';
import type { Logger } from '../../core/logger.ts';
import type { TemplateRef } from '../../core/schemas/index.ts';
import type { Catalogue, Template } from '../../core/templates/index.ts';
import { ErroredState } from './errored-state.ts';
import { moduleReach } from './job-dir.ts';
import { openS3State, type S3State } from './s3-state.ts';
import { Terraform } from './terraform.ts';

export type TemplateRuntime = {
  template: Template;
  terraform: Terraform;
  erroredState: ErroredState;
  // How many levels above the template its local modules reach: a job's
  // own directory mirrors that much (see job-dir.ts).
  moduleReach: number;
  // Direct access to the template's S3 state backend; undefined means
  // Terraform commands only (see s3-state.ts).
  s3State: S3State | undefined;
};

export type TemplateSettings = {
  terraform: Config['terraform'];
  worker: Pick<Config['worker'], 'workDir' | 'shutdownGraceMs' | 'stateDirectAccess'>;
};

export async function prepareTemplates(
  config: TemplateSettings,
  catalogue: Catalogue,
  dataDir: string,
  workerId: string,
  logger: Logger,
): Promise<Map<string, TemplateRuntime>> {
  const runtimes = new Map<string, TemplateRuntime>();
  for (const template of catalogue.list()) {
    // An operator-set variable without a default must come from the
    // workers' environment, or every job of the template would fail.
    for (const variable of template.operatorSet) {
      if (!variable.hasDefault && config.terraform.passthroughEnv[`TF_VAR_${variable.name}`] === undefined) {
        throw new ConfigError(
          `template ${template.dir}: variable "${variable.name}" is operator-set ("expose": false) and ` +
            `has no default; set TF_VAR_${variable.name} in the workers' environment`,
        );
      }
    }
    const terraform = new Terraform({
      ...config.terraform,
      cwd: template.dir,
      dataDir: path.join(dataDir, 'templates', template.name),
      graceMs: config.worker.shutdownGraceMs,
    });
    const started = performance.now();
    try {
      await terraform.init();
    } catch (error) {
      closeStateClients(runtimes);
      throw error;
    }
    logger.info(
      {
        workerId,
        template: template.name,
        version: template.version,
        cwd: template.dir,
        ms: Math.round(performance.now() - started),
      },
      'terraform initialised',
    );
    const erroredState = new ErroredState(path.join(config.worker.workDir, 'errored-state'), workerId);
    const s3State = config.worker.stateDirectAccess
      ? await openS3State(terraform.settings.dataDir, config.terraform.passthroughEnv)
      : undefined;
    logger.info({ template: template.name, stateAccess: s3State ? 's3' : 'terraform' }, 'state access chosen');
    runtimes.set(template.name, {
      template,
      terraform,
      erroredState,
      moduleReach: await moduleReach(terraform.settings.dataDir),
      s3State,
    });
  }
  return runtimes;
}

// The runtime that runs a job validated against `wanted`, or why this
// worker cannot run it.
export function runtimeFor(
  runtimes: ReadonlyMap<string, TemplateRuntime>,
  wanted: TemplateRef,
): { runtime: TemplateRuntime } | { mismatch: string } {
  const runtime = runtimes.get(wanted.name);
  if (!runtime) return { mismatch: `this worker does not serve template "${wanted.name}"` };
  if (runtime.template.version !== wanted.version) {
    return {
      mismatch:
        `the inputs were validated against template ${wanted.name} version ${wanted.version}, and this ` +
        `worker has version ${runtime.template.version}`,
    };
  }
  return { runtime };
}

// Resolves once no Terraform of any template runs, or after `ms`.
export function terraformIdle(runtimes: ReadonlyMap<string, TemplateRuntime>, ms: number): Promise<unknown> {
  return within(Promise.all([...runtimes.values()].map((runtime) => runtime.terraform.idle())), ms);
}

export function closeStateClients(runtimes: ReadonlyMap<string, TemplateRuntime>): void {
  for (const runtime of runtimes.values()) runtime.s3State?.close();
}
