// The error catalogue: every error a client can see, with a stable code that
// is never reused and the HTTP status it maps to.
import type { z } from 'zod';
export const ERRORS = {
  'validation-failed': { status: 400, title: 'Request validation failed' },
  'malformed-json': { status: 400, title: 'Malformed JSON body' },
  'invalid-id': { status: 400, title: 'Invalid id' },
  'malformed-url': { status: 400, title: 'Malformed URL' },
  'invalid-cursor': { status: 400, title: 'Invalid cursor' },
  'invalid-idempotency-key': { status: 400, title: 'Invalid Idempotency-Key' },
  'project-required': { status: 400, title: 'Name the project: ?project=NAME' },
  'invalid-policy-rule': { status: 400, title: 'The policy rule does not compile or type-check' },
  unauthorized: { status: 401, title: 'Authentication required' },
  'resource-limit-reached': { status: 403, title: 'Live resource limit reached' },
  'no-grants': { status: 403, title: 'The identity is valid but grants no project role' },
  'insufficient-role': { status: 403, title: 'The role held in the project is too low' },
  'csrf-refused': { status: 403, title: 'A change to the console from outside its pages' },
  'resource-not-found': { status: 404, title: 'Resource not found' },
  'job-not-found': { status: 404, title: 'Job not found' },
  'template-not-found': { status: 404, title: 'Template not found' },
  'webhook-not-found': { status: 404, title: 'Webhook not found' },
  'policy-not-found': { status: 404, title: 'Policy not found' },
  'delivery-not-found': { status: 404, title: 'Delivery not found' },
  'project-not-found': { status: 404, title: 'Project not found' },
  'token-not-found': { status: 404, title: 'Token not found' },
  'route-not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'host-not-loopback': { status: 421, title: 'Host is not a loopback name' },
  'invalid-state': { status: 409, title: "Not possible in the resource's current status" },
  'template-not-served': { status: 409, title: "The resource's template is not served any more" },
  'inputs-not-valid-for-template': {
    status: 409,
    title: "The stack's inputs do not satisfy its template as served now",
  },
  'encryption-key-not-set': { status: 409, title: 'Webhooks need ENCRYPTION_KEY' },
  'webhook-limit-reached': { status: 409, title: 'Webhook limit reached' },
  'policy-limit-reached': { status: 409, title: 'Policy limit reached' },
  'project-exists': { status: 409, title: 'A project of that name exists' },
  'project-not-empty': { status: 409, title: 'The project still holds live stacks or webhooks' },
  'quota-exceeded': { status: 409, title: "Over the project's quota" },
  'token-name-taken': { status: 409, title: 'A token of that name exists in the project' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency-Key reused with a different request' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'too-many-held-requests': { status: 429, title: 'Too many requests held open' },
  'backend-unavailable': { status: 503, title: 'Service temporarily unavailable' },
  internal: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

// Why a job failed, as its `error.code` says: stable codes, never reused. The
// message beside it says what happened and what to do; what only the
// operator may see (SDK errors, endpoints, local paths) is in the worker's
// log under the job's id.
export const JOB_ERRORS = {
  'terraform-failed': "Terraform exited with errors: its diagnostics say why, and the job's log has its output.",
  'terraform-timed-out': 'Terraform ran past JOB_TIMEOUT_SECONDS and was stopped.',
  'state-backend-unavailable':
    'The state backend (S3, DynamoDB) could not be reached or failed a request; the job is tried again.',
  'lock-held': "The workspace's state lock is held by someone else: another job, or a person running terraform.",
  'stale-plan': "The stack's state changed after the update was planned: nothing was applied; send PATCH again.",
  'saved-plan-unavailable': "The update's saved plan could not be kept or found beside the state: nothing was applied.",
  'workspace-not-empty':
    "The create's workspace already tracks resources this stack did not make; they are not adopted.",
  'workspace-missing': 'The stack has no state to plan or update from.',
  'destroy-incomplete': 'The workspace still tracks resources after the destroy; it was kept.',
  'template-version-unavailable':
    "No worker with the job's template version took the job in time: nothing was changed.",
  'sensitive-inputs-unreadable':
    "The worker could not open the stack's sensitive inputs (its ENCRYPTION_KEY is missing or another).",
  'policy-failed':
    "A hard-mandatory policy failed on the plan: nothing was applied; the job's `policy` says which and why.",
  'workers-died': 'The workers running the job died too often; it was not tried again.',
  cancelled: 'Cancelled or discarded on request, or the stack was deleted before the job ran.',
  internal: "Anything unexpected: the detail is in the worker's log, under the job's id.",
} as const satisfies Record<string, string>;

export type JobErrorCode = keyof typeof JOB_ERRORS;

export type FieldError = { path: string; message: string };

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.code = code;
    this.status = ERRORS[code].status;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

// zod's issues as the fields a problem names; `where` stands for the whole value.
export function fieldErrors(issues: readonly z.core.$ZodIssue[], where: string): FieldError[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const message = issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
    return { path: path || where, message };
  });
}

// The 404 of a project that does not exist, or that the caller has no role
// in: the two answer alike.
export function projectNotFound(name: string): AppError {
  return new AppError('project-not-found', `there is no project "${name}"`);
}

// The 400 for a value its schema refused, naming every offending field.
export function validationFailed(issues: readonly z.core.$ZodIssue[], where: string): AppError {
  const errors = fieldErrors(issues, where);
  return new AppError('validation-failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

export function problemType(code: ErrorCode): string {
  return `urn:tfcompute:problem:${code}`;
}
