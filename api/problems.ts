// Every error leaves the API as RFC 9457 application/problem+json: the
// catalogue's code and title, a detail the user can act on, no stack trace.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, ERRORS, problemType, type ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { type Problem, StackId } from '../core/schemas/index.ts';
import { parseParam } from './validate.ts';

// A stack or job id from a console page's path, or the 400 of a malformed one.
export function requireId(value: unknown): string {
  return parseParam('id', StackId, value);
}

export function methodNotAllowed(allowed: string[]): RequestHandler {
  return (req) => {
    throw new AppError('method-not-allowed', `${req.method} is not supported here; use ${allowed.join(' or ')}`, {
      headers: { Allow: allowed.join(', ') },
    });
  };
}

export const routeNotFound: RequestHandler = (req) => {
  throw new AppError('route-not-found', `no route for ${req.method} ${req.path}; see /openapi.json`);
};

// Bodies must be JSON; anything else that carries a body is refused before parsing.
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (
    hasBody &&
    (req.method === 'POST' || req.method === 'PATCH') &&
    !req.is(['application/json', 'application/*+json'])
  ) {
    throw new AppError('unsupported-media-type', 'send the body as application/json');
  }
  next();
};

// Errors of ioredis when Redis cannot be reached.
function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /enableOfflineQueue|Connection is closed|connection is not ready|ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(
      error.message,
    )
  );
}

type BodyParserError = Error & { type?: string; status?: number };

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const e = error as BodyParserError;
  switch (e?.type) {
    case 'entity.parse.failed':
      return new AppError('malformed-json', `the body is not valid JSON: ${e.message}`);
    case 'entity.too.large':
      return new AppError('payload-too-large', 'the body must be at most 16 KB');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported-media-type', e.message);
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('malformed-json', e.message);
  }
  // The router could not percent-decode a path parameter.
  if (error instanceof URIError) return new AppError('malformed-url', 'the URL holds a malformed percent-encoding');
  if (isRedisUnavailable(error)) {
    return new AppError('backend-unavailable', 'the job store is unreachable; try again shortly', {
      cause: error,
      headers: { 'Retry-After': '5' },
    });
  }
  return new AppError('internal', 'an unexpected error occurred; it has been logged', { cause: error });
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = toAppError(error);
    const log = req.log ?? logger;
    if (appError.code === 'backend-unavailable')
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'backend unavailable');
    else if (appError.status >= 500) log.error({ err: error }, 'request failed');
    const body: Problem = {
      type: problemType(appError.code),
      title: ERRORS[appError.code as ErrorCode].title,
      status: appError.status,
      detail: appError.message,
      instance: req.originalUrl,
      code: appError.code,
    };
    if (typeof req.id === 'string') body.request_id = req.id;
    if (appError.errors) body.errors = appError.errors;
    if (res.headersSent) return;
    res.status(appError.status).set(appError.headers).type('application/problem+json').send(JSON.stringify(body));
  };
}
