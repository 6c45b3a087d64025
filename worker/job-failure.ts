// Why a job's attempt stopped, in the words the user reads (the job's and the
// resource's `error`), and whether another attempt could go differently.
import type { Diagnostic, JobError } from '../core/schemas/index.ts';

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

  constructor(detail: JobError, options: { interrupted?: boolean; changedNothing?: boolean; waiting?: boolean; cause?: unknown } = {}) {
    super(detail.message, { cause: options.cause });
    this.detail = detail;
    this.interrupted = options.interrupted ?? false;
    this.changedNothing = options.changedNothing ?? false;
    this.waiting = options.waiting ?? false;
  }

  // The same failure of a step that changes nothing.
  static beforeAnyChange(error: unknown): JobFailure {
    const failure = JobFailure.from(error);
    return new JobFailure(failure.detail, { interrupted: failure.interrupted, changedNothing: true, cause: failure.cause ?? failure });
  }

  // A failure another attempt may not meet: a lock held, the network, a backend's 5xx.
  static retryable(message: string, diagnostics: Diagnostic[] = []): JobFailure {
    return new JobFailure({ message, retryable: true, diagnostics });
  }

  // A failure that would happen again the same way.
  static permanent(message: string, diagnostics: Diagnostic[] = []): JobFailure {
    return new JobFailure({ message, retryable: false, diagnostics });
  }

  static waiting(message: string): JobFailure {
    return new JobFailure({ message, retryable: true, diagnostics: [] }, { waiting: true, changedNothing: true });
  }

  static interrupted(message: string): JobFailure {
    return new JobFailure({ message, retryable: true, diagnostics: [] }, { interrupted: true });
  }

  // Anything else that went wrong (Redis, the file system) is worth another attempt.
  static from(error: unknown): JobFailure {
    if (error instanceof JobFailure) return error;
    return new JobFailure({ message: errorText(error), retryable: true, diagnostics: [] }, { cause: error });
  }
}

// An error's message, with the system error code when the message lacks it.
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message || error.name;
}
