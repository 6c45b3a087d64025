// Terraform's commands for one job in one workspace, Atlantis-style: each
// command's argument list is built in command-lines.ts and nowhere else;
// `-json` output is read into the job's log, progress, change summary, outputs
// and diagnostics; a failure becomes one TerraformError naming the command and
// the workspace (its code and message: command-failures.ts); and state a
// failed run could not save is kept and pushed before the next.
import type { ChangeSummary, JobProgress, Outputs, Plan } from '../../core/schemas/index.ts';
import { JobFailure } from '../job-failure.ts';
import { backendFailure, commandFailure } from './command-failures.ts';
import { commandLine } from './command-lines.ts';
import type { ErroredState } from './errored-state.ts';
import { RunTracker } from './run-tracker.ts';
import { type RunResult, type Terraform, TerraformError } from './terraform.ts';

export type RunnerOptions = {
  workspace: string;
  // The job's own working directory (see job-dir.ts).
  cwd: string;
  // The job's own data directory when its stack's state has a prefix of its
  // own (see makeJobDataDir in job-dir.ts); the worker's otherwise.
  dataDir?: string | undefined;
  // The job's variables, written by the worker (resource_id and the inputs).
  varFile: string;
  // We hold the workspace's state lock ourselves (see state-lock.ts), so
  // Terraform must not take it again.
  holdsLock: boolean;
  signal?: AbortSignal | undefined;
  log: (text: string) => void;
  progress: (progress: JobProgress) => void;
};

export type ApplyResult = { outputs: Outputs; changes: ChangeSummary };

export class WorkspaceRunner {
  readonly #terraform: Terraform;
  readonly #erroredState: ErroredState;
  readonly #o: RunnerOptions;
  readonly #tracker = new RunTracker();

  constructor(terraform: Terraform, erroredState: ErroredState, options: RunnerOptions) {
    this.#terraform = terraform;
    this.#erroredState = erroredState;
    this.#o = options;
  }

  // `lineage`: the workspace state's, read before the run, to recognise the
  // state Terraform writes locally if it cannot save it.
  async apply(lineage: string | undefined): Promise<ApplyResult> {
    const result = await this.#run('apply', commandLine.apply(this.#o), { json: true });
    if (result.exitCode !== 0) throw await this.#failure('apply', result, lineage);
    return { outputs: this.#tracker.outputs ?? {}, changes: this.#changes() };
  }

  async destroy(lineage: string | undefined): Promise<{ changes: ChangeSummary }> {
    const result = await this.#run('destroy', commandLine.destroy(this.#o), { json: true });
    if (result.exitCode !== 0) throw await this.#failure('destroy', result, lineage);
    return { changes: this.#changes() };
  }

  async plan(): Promise<Plan> {
    const result = await this.#run('plan', commandLine.plan(this.#o), { json: true });
    if (result.exitCode !== 0) throw await this.#failure('plan', result, null);
    return this.#planned(result);
  }

  // Plans into `file` (the destroy of everything, with `destroy`), to apply
  // later. `changes` is false when applying it would change nothing, outputs included.
  async planOut(file: string, options: { destroy?: boolean } = {}): Promise<{ plan: Plan; changes: boolean }> {
    const result = await this.#run('plan', commandLine.planOut(this.#o, file, options.destroy === true), {
      json: true,
    });
    if (result.exitCode !== 0 && result.exitCode !== 2) throw await this.#failure('plan', result, null);
    return { plan: this.#planned(result), changes: result.exitCode === 2 };
  }

  // Applies a saved plan; Terraform refuses one whose state has changed since.
  async applyPlan(file: string, lineage: string | undefined): Promise<ApplyResult> {
    const result = await this.#run('apply', commandLine.applyPlan(this.#o, file), { json: true });
    if (result.exitCode !== 0) {
      if (this.#tracker.errors.some((d) => d.summary === 'Saved plan is stale')) {
        const message =
          "the plan is stale: the stack's state changed after it was planned, so it was not applied and " +
          'nothing was changed; send PATCH again to plan from the state as it is';
        throw this.#error(
          'apply',
          result,
          JobFailure.permanent('stale-plan', message, { diagnostics: this.#tracker.diagnostics }),
        );
      }
      throw await this.#failure('apply', result, lineage);
    }
    return { outputs: this.#tracker.outputs ?? {}, changes: this.#changes() };
  }

  // The saved plan in `file` as Terraform's JSON plan representation.
  async showPlan(file: string): Promise<unknown> {
    // The whole output, however long (a run's kept stdout is capped).
    const lines: string[] = [];
    const ran = await this.#run('show', commandLine.showPlan(file), { json: false, quiet: lines });
    const result = { ...ran, stdout: '' };
    if (result.exitCode !== 0)
      throw this.#error(
        'show',
        result,
        JobFailure.permanent('terraform-failed', 'terraform show could not read the saved plan; nothing was applied'),
      );
    try {
      return JSON.parse(lines.join('\n')) as unknown;
    } catch (error) {
      throw this.#error(
        'show',
        result,
        JobFailure.permanent('internal', 'terraform show -json wrote something that is not JSON; nothing was applied', {
          cause: error,
        }),
      );
    }
  }

  // Pushes the state an earlier run kept (see errored-state.ts), if any.
  async pushErroredState(): Promise<void> {
    const { workspace } = this.#o;
    const file = await this.#erroredState.pending(workspace);
    if (!file) return;
    const result = await this.#run('state push', commandLine.statePush(this.#o, file), { json: false });
    if (result.exitCode !== 0) {
      const message = "could not push the state an earlier run failed to save; Terraform's output is in the job's log";
      throw this.#error('state push', result, backendFailure(message, result, 'retryable'));
    }
    await this.#erroredState.pushed(workspace);
    this.#o.log('Pushed the state an earlier run could not save to the backend.');
  }

  // Creates the workspace; 'exists' when it was there already.
  async newWorkspace(): Promise<'created' | 'exists'> {
    const result = await this.#run('workspace new', commandLine.workspaceNew(this.#o.workspace), { json: false });
    if (result.exitCode === 0) return 'created';
    if (/already exists/.test(result.stderr)) return 'exists';
    throw this.#error(
      'workspace new',
      result,
      backendFailure("terraform workspace new failed; Terraform's output is in the job's log", result),
    );
  }

  // The addresses the workspace's state tracks.
  async listState(): Promise<string[]> {
    const result = await this.#run('state list', commandLine.stateList(), { json: false });
    if (result.exitCode !== 0) {
      const message =
        `workspace ${this.#o.workspace} already exists and its state could not be read; Terraform's output ` +
        "is in the job's log";
      throw this.#error('state list', result, backendFailure(message, result));
    }
    return result.stdout.split('\n').filter(Boolean);
  }

  async deleteWorkspace(): Promise<void> {
    // `workspace delete` refuses to delete the selected workspace, hence TF_WORKSPACE=default.
    const result = await this.#run('workspace delete', commandLine.workspaceDelete(this.#o.workspace), {
      json: false,
      workspace: 'default',
    });
    if (result.exitCode !== 0 && !/doesn't exist/.test(result.stderr))
      throw await this.#failure('workspace delete', result, undefined);
  }

  #changes(): ChangeSummary {
    return this.#tracker.changes ?? { add: 0, change: 0, remove: 0 };
  }

  // The plan a successful plan run reported; every one reports a change summary.
  #planned(result: RunResult): Plan {
    const plan = this.#tracker.plan;
    if (!plan)
      throw this.#error(
        'plan',
        result,
        JobFailure.permanent('internal', 'terraform plan succeeded without a change summary'),
      );
    return plan;
  }

  // `quiet`: the output's lines go there, and nothing to the log (they may hold variables' values).
  async #run(
    command: string,
    args: string[],
    options: { json: boolean; workspace?: string; quiet?: string[] },
  ): Promise<RunResult> {
    const { log, progress, signal } = this.#o;
    const result = await this.#terraform.run(args, {
      workspace: options.workspace ?? this.#o.workspace,
      cwd: this.#o.cwd,
      ...(this.#o.dataDir ? { dataDir: this.#o.dataDir } : {}),
      ...(signal ? { signal } : {}),
      onLine: (line) => {
        if (options.quiet) return void options.quiet.push(line);
        if (!options.json) return log(line);
        const { text, progressed } = this.#tracker.handle(line);
        if (text) log(text);
        if (progressed) progress(this.#tracker.progress);
      },
    });
    // With -json, stderr holds only what escaped the UI: plugin crashes, panics.
    if (result.stderr && !options.quiet) log(result.stderr);
    if (result.interrupted) throw JobFailure.interrupted(`terraform ${command} was interrupted`);
    return result;
  }

  // `lineage` null: the command writes no state (a plan), so it leaves no errored.tfstate.
  async #failure(command: string, result: RunResult, lineage: string | undefined | null): Promise<TerraformError> {
    const tracker = this.#tracker;
    if (lineage !== null && (await this.#keepErroredState(lineage)) === 'kept') {
      const message =
        `terraform ${command} could not save the state to the backend; it is kept and will be pushed on ` +
        'the next attempt';
      return this.#error(
        command,
        result,
        JobFailure.retryable('state-backend-unavailable', message, { diagnostics: tracker.diagnostics }),
      );
    }
    return this.#error(command, result, commandFailure(command, result, tracker));
  }

  async #keepErroredState(lineage: string | undefined): Promise<'kept' | 'none' | 'foreign'> {
    const kept = await this.#erroredState.keep(this.#o.cwd, this.#o.workspace, lineage);
    if (kept === 'kept') {
      this.#o.log(
        'Terraform could not save the state to the backend; it is kept on worker ' +
          `${this.#erroredState.workerId} and will be pushed before the next run for this stack.`,
      );
    }
    if (kept === 'foreign') this.#o.log("An errored.tfstate that is not this workspace's was left alone.");
    return kept;
  }

  #error(command: string, result: RunResult, failure: JobFailure): TerraformError {
    return new TerraformError(failure.detail, command, this.#o.workspace, result);
  }
}
