import { HttpException, HttpStatus } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { ApiError, type ErrorCode, type ErrorDetail, statusOf } from './api-error.js';

export interface ErrorBody {
  error: string;
  code: ErrorCode;
  details?: ErrorDetail[];
  request_id: string;
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** Set when the failure is ours, not the caller's: worth logging with its stack. */
  internal?: unknown;
}

const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    'unsupported_media_type',
    'The request body must be JSON: send it with Content-Type: application/json.',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    'invalid_json',
    'The Content-Length header does not match the body.',
  ],
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_json', 'The request body is not valid JSON.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_json', 'The request body is empty; send a JSON object.'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'The request body is too large.'],
};

// PostgreSQL error classes that mean "the database is not there right now".
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3])/;
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
]);

// Duck-typed: socket errors may come from another realm (or as an AggregateError), where
// `instanceof Error` is false although they are errors all the same.
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (
    typeof code === 'string' &&
    (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))
  ) {
    return true;
  }
  return (
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|Driver not Connected/i.test(
      message,
    )
  );
}

function fromHttpException(err: HttpException): [ErrorCode, string, ErrorDetail[]?] {
  const status = err.getStatus() as HttpStatus;
  const response = err.getResponse();
  const message =
    typeof response === 'object' && response !== null && 'message' in response
      ? String(response.message)
      : err.message;
  switch (status) {
    case HttpStatus.NOT_FOUND:
      return [
        'route_not_found',
        message.replace(/^Cannot (\w+) (.*)$/, 'There is no route $1 $2.'),
      ];
    case HttpStatus.UNAUTHORIZED:
      return ['unauthorized', message];
    case HttpStatus.PAYLOAD_TOO_LARGE:
      return ['payload_too_large', 'The request body is too large.'];
    case HttpStatus.UNSUPPORTED_MEDIA_TYPE:
      return ['unsupported_media_type', FASTIFY_CODES.FST_ERR_CTP_INVALID_MEDIA_TYPE[1]];
    case HttpStatus.METHOD_NOT_ALLOWED:
      return ['method_not_allowed', message];
    case HttpStatus.TOO_MANY_REQUESTS:
      return [
        'rate_limited',
        'Too many requests; wait as long as Retry-After says, then try again.',
      ];
    case HttpStatus.SERVICE_UNAVAILABLE:
      return ['database_unavailable', 'The database is unreachable; try again shortly.'];
    default:
      return Number(status) >= 500
        ? ['internal_error', 'Something went wrong on our side; the request changed nothing.']
        : ['validation_failed', message];
  }
}

/**
 * Turns anything thrown while serving a request into the one error body of Assay.
 * Used by the Nest exception filter and by Fastify's own error handler alike.
 */
export function toErrorResponse(err: unknown, requestId: string): ErrorResponse {
  let code: ErrorCode;
  let message: string;
  let details: ErrorDetail[] | undefined;
  let internal: unknown;
  // Nest wraps Fastify's own client errors in an HttpException; their code says more.
  const cause = err instanceof HttpException ? err.cause : err;
  const fastifyCode = (cause as { code?: unknown } | null)?.code;

  if (err instanceof ApiError) {
    [code, message, details] = [err.code, err.message, err.details];
    internal = err.cause;
  } else if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
    [code, message] = FASTIFY_CODES[fastifyCode];
  } else if (err instanceof HttpException) {
    [code, message, details] = fromHttpException(err);
  } else if (
    isDatabaseUnavailable(err) ||
    isDatabaseUnavailable((err as QueryFailedError)?.driverError)
  ) {
    code = 'database_unavailable';
    message = 'The database is unreachable; try again shortly.';
    internal = err;
  } else if (
    typeof (err as { statusCode?: unknown } | null)?.statusCode === 'number' &&
    (err as { statusCode: number }).statusCode < 500
  ) {
    // Another of Fastify's own client errors (a malformed header, say).
    code = 'validation_failed';
    message = (err as Error).message;
  } else {
    code = 'internal_error';
    message = 'Something went wrong on our side; the request changed nothing.';
    internal = err;
  }

  const status = statusOf(code);
  const headers: Record<string, string> = {};
  if (status === HttpStatus.UNAUTHORIZED) headers['WWW-Authenticate'] = 'Bearer';
  if (err instanceof ApiError) Object.assign(headers, err.headers);
  const body: ErrorBody = { error: message, code, request_id: requestId };
  if (details?.length) body.details = details;
  return { status, body, headers, internal };
}
