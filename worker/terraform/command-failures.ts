// How a failed Terraform command is told to its job: the error code, the
// message, and whether another attempt may succeed. The workspace runner
// (workspace-runner.ts) wraps each in a TerraformError naming the command
// and the workspace.
import { JobFailure } from '../job-failure.ts';
import { isTransient, type RunTracker } from './run-tracker.ts';
import type { RunResult } from './terraform.ts';

// Terraform could not take the state lock (someone else holds it).
const LOCK_ERROR = /error acquiring the state lock/i;

// A command that ran the configuration (a plan, an apply, a destroy) failed,
// and no state was left unsaved: it timed out, found the lock held, or failed
// for a reason that may or may not pass.
export function commandFailure(command: string, result: RunResult, tracker: RunTracker): JobFailure {
  if (result.timedOut) {
    return JobFailure.permanent('terraform-timed-out', `terraform ${command} timed out and was stopped`, {
      diagnostics: tracker.errors,
    });
  }
  // What Terraform wrote outside its diagnostics (a crash, a panic) names
  // local paths: it is in the job's log, not in the message.
  const reason = tracker.errors[0]?.summary ?? `exit code ${result.exitCode}; Terraform's output is in the job's log`;
  const code = tracker.errors.some((d) => LOCK_ERROR.test(d.summary)) ? 'lock-held' : 'terraform-failed';
  const options = { diagnostics: tracker.diagnostics };
  return isTransient(tracker.errors, result.stderr)
    ? JobFailure.retryable(code, `terraform ${command} failed: ${reason}`, options)
    : JobFailure.permanent(code, `terraform ${command} failed: ${reason}`, options);
}

// Commands that only read or write the backend: a transient failure is the backend's.
// `always`: retryable even when it is not transient.
export function backendFailure(message: string, result: RunResult, always?: 'retryable'): JobFailure {
  if (isTransient([], result.stderr)) return JobFailure.retryable('state-backend-unavailable', message);
  return always ? JobFailure.retryable('terraform-failed', message) : JobFailure.permanent('terraform-failed', message);
}
