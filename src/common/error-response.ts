import { HttpException, HttpStatus } from '@nestjs/common';
import { ApiError, type ErrorCode, type ErrorDetail, statusOf } from './api-error.js';
import { type DatabaseTrouble, databaseTrouble, poolSizeOf } from './database-trouble.js';

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
  /** Set when the database could not serve the request: logged by state, not per request. */
  database?: DatabaseTrouble;
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
  FST_ERR_BAD_URL: [
    'malformed_request',
    'The URL is not valid: it holds a malformed percent-encoding (%XX).',
  ],
  FST_ERR_MAX_PARAM_LENGTH: ['uri_too_long', 'A path parameter of the URL is too long.'],
};

/** The 503s: what happened, and how many seconds a client should wait before trying again. */
const DATABASE_ANSWERS: Record<DatabaseTrouble, [(err: unknown) => string, number]> = {
  database_unavailable: [() => 'The database is unreachable; try again shortly.', 5],
  database_busy: [
    (err) => {
      const size = poolSizeOf(err);
      const which =
        size === 1
          ? 'The one database connection is'
          : `All ${size ?? 'the'} database connections are`;
      return `${which} busy with other requests; the request changed nothing. Try again in a moment.`;
    },
    1,
  ],
  database_timeout: [
    () =>
      'The database took too long: a statement or lock wait ran past DB_STATEMENT_TIMEOUT and was cancelled; the request changed nothing. Try again shortly.',
    5,
  ],
};

/** Whether `err` says the database could not be reached at all. */
export const isDatabaseUnavailable = (err: unknown): boolean =>
  databaseTrouble(err) === 'database_unavailable';

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
      return ['database_unavailable', DATABASE_ANSWERS.database_unavailable[0](err)];
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
  const trouble = databaseTrouble(err);

  if (err instanceof ApiError) {
    [code, message, details] = [err.code, err.message, err.details];
    internal = err.cause;
  } else if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
    [code, message] = FASTIFY_CODES[fastifyCode];
  } else if (err instanceof HttpException) {
    [code, message, details] = fromHttpException(err);
  } else if (trouble) {
    code = trouble;
    message = DATABASE_ANSWERS[trouble][0](err);
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
  const database = code in DATABASE_ANSWERS ? (code as DatabaseTrouble) : undefined;
  if (database) headers['Retry-After'] = String(DATABASE_ANSWERS[database][1]);
  if (err instanceof ApiError) Object.assign(headers, err.headers);
  const body: ErrorBody = { error: message, code, request_id: requestId };
  if (details?.length) body.details = details;
  return { status, body, headers, internal, database };
}
