// Why a job's attempt stopped, in the words the user reads (the job's and the
// stack's `error`: a code from core/errors.ts's JOB_ERRORS and a message),
// and whether another attempt could go differently. The error it came from,
// when it is not ours to show (an SDK's, the file system's), is its `cause`,
// which only the worker's log shows (see jobs/processor.ts).
import type { JobErrorCode } from '../core/errors.ts';
import type { Diagnostic, JobError } from '../core/schemas/index.ts';

type FailureOptions = { diagnostics?: Diagnostic[]; cause?: unknown };

export class JobFailure extends Error {
  override name = 'JobFailure';
  readonly detail: JobError;
  // Stopped by our own signal (shutdown or cancel), not failed by itself.
  readonly interrupted: boolean;
  // It stopped before anything was applied (an update's plan): the stack is as it was.
  readonly changedNothing: boolean;
  // It could not start yet and will be able to (another attempt of a
  // tfcompute job still holds the state lock): it waits, spending no attempt.
  readonly waiting: boolean;

  constructor(
    detail: JobError,
    options: { interrupted?: boolean; changedNothing?: boolean; waiting?: boolean; cause?: unknown } = {},
  ) {
    super(detail.message, { cause: options.cause });
    this.detail = detail;
    this.interrupted = options.interrupted ?? false;
    this.changedNothing = options.changedNothing ?? false;
    this.waiting = options.waiting ?? false;
  }

  // The same failure of a step that changes nothing.
  static beforeAnyChange(error: unknown): JobFailure {
    const failure = JobFailure.from(error);
    return new JobFailure(failure.detail, {
      interrupted: failure.interrupted,
      changedNothing: true,
      cause: failure.cause ?? failure,
    });
  }

  // A failure another attempt may not meet: a lock held, the network, a backend's 5xx.
  static retryable(code: JobErrorCode, message: string, options: FailureOptions = {}): JobFailure {
    return new JobFailure(
      { code, message, retryable: true, diagnostics: options.diagnostics ?? [] },
      { cause: options.cause },
    );
  }

  // A failure that would happen again the same way.
  static permanent(code: JobErrorCode, message: string, options: FailureOptions = {}): JobFailure {
    return new JobFailure(
      { code, message, retryable: false, diagnostics: options.diagnostics ?? [] },
      { cause: options.cause },
    );
  }

  static waiting(message: string): JobFailure {
    return new JobFailure(
      { code: 'lock-held', message, retryable: true, diagnostics: [] },
      { waiting: true, changedNothing: true },
    );
  }

  // Its detail is recorded only when the interruption was a cancel (see
  // jobs/outcome.ts); otherwise the job goes back to the queue without it.
  static interrupted(message: string): JobFailure {
    return new JobFailure({ code: 'cancelled', message, retryable: true, diagnostics: [] }, { interrupted: true });
  }

  // Anything else that went wrong is worth another attempt. An AWS SDK
  // error can only be the state backend's (it is the only AWS service the
  // worker calls); anything else (Redis, the file system) is unexpected.
  static from(error: unknown): JobFailure {
    if (error instanceof JobFailure) return error;
    if (isSdkError(error)) return stateBackendUnavailable('the job stopped', error);
    return JobFailure.retryable(
      'internal',
      "the worker met an unexpected error; its detail is in the worker's log under this job's id",
      { cause: error },
    );
  }
}

// The state backend failed us: what it said goes to the worker's log only,
// as it names endpoints, buckets, request ids and accounts.
export function stateBackendUnavailable(what: string, cause: unknown): JobFailure {
  const message =
    `${what}: the state backend could not be reached or failed the request; the job is tried again while ` +
    'it has attempts left, and the stack can be retried once the backend is back';
  return JobFailure.retryable('state-backend-unavailable', message, { cause });
}

// The AWS SDK marks every error it throws, a network failure included, with `$metadata`.
function isSdkError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && '$metadata' in error;
}

// An error's message, with the system error code when the message lacks it.
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message || error.name;
}
