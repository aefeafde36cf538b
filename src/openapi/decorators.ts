import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiHeader,
  ApiProperty,
  type ApiPropertyOptions,
  ApiResponse,
  type ApiResponseOptions,
  getSchemaPath,
} from '@nestjs/swagger';
import type { ErrorCode } from '../common/api-error.js';
import { ErrorBodyDto } from './error-body.dto.js';

export const BEARER = 'BearerAuth';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request: malformed JSON, a wrong type, an unknown field or a bad UUID',
  401: 'Unauthorized: no token, or one that is bad, expired or wrongly signed',
  403: 'Forbidden: the token names an evaluator that is not registered, or is disabled',
  404: 'Not Found',
  406: 'Not Acceptable: the Accept header allows none of the media types the route answers in',
  409:
    'Conflict, nothing written: it clashes with what is stored (the message says how), what ' +
    'it reads kept changing while it was written, or a request with the same ' +
    'Idempotency-Key is still running; retry after Retry-After when it is sent',
  412: 'Precondition Failed: If-Match does not match the current ETag (sent back in ETag)',
  413: 'Payload Too Large: the body is over BODY_LIMIT',
  415: 'Unsupported Media Type: a body that is not JSON',
  422:
    'Unprocessable: well-formed, but it breaks a rule (the message names it), or its ' +
    'Idempotency-Key came with another request',
  429: "Too Many Requests: the account's rate limit is spent",
  503: 'Service Unavailable: the database is unreachable, busy or too slow (the message says which)',
};

const REQUEST_ID = '3c1b7a52-4f0e-4a39-9d3b-2f6e8c1d0a77';

/** What each error status really carries, shown as the example of its answer. */
const ERROR_EXAMPLES: Record<number, { code: ErrorCode; error: string; details?: object[] }> = {
  400: {
    code: 'validation_failed',
    error: 'Invalid request: value must be a finite number.',
    details: [{ field: 'value', message: 'value must be a finite number' }],
  },
  401: { code: 'unauthorized', error: 'The token has expired; get a new one.' },
  403: {
    code: 'evaluator_not_registered',
    error: 'Evaluator 9b2e4c1a-0f3d-4e8b-a7c6-5d1e2f3a4b5c is not registered in account "acme".',
  },
  404: { code: 'not_found', error: 'Run 3f2b8c1e-7d4a-4e6b-9a1c-2d5e8f0b7c39 was not found.' },
  406: {
    code: 'not_acceptable',
    error:
      'The Accept header allows none of the media types this route answers in: application/json, text/event-stream.',
    details: [
      { field: 'Accept', message: 'must allow one of application/json, text/event-stream' },
    ],
  },
  409: {
    code: 'conflict',
    error: 'What this write depends on kept changing while it was made (5 tries); retry it.',
  },
  412: {
    code: 'precondition_failed',
    error: 'If-Match does not match the current ETag of the resource; read it again first.',
  },
  413: { code: 'payload_too_large', error: 'The request body is too large.' },
  415: {
    code: 'unsupported_media_type',
    error: 'The request body must be JSON: send it with Content-Type: application/json.',
  },
  422: {
    code: 'idempotency_key_reused',
    error:
      'This Idempotency-Key was already used for a different request (another method, path ' +
      'or body); use a new key for a new request.',
  },
  429: {
    code: 'rate_limited',
    error:
      'Account "acme" has made more than 6000 requests in 60 s; retry after 12 s (the Retry-After header).',
  },
  503: {
    code: 'database_unavailable',
    error: 'The database is unreachable; try again after Retry-After seconds.',
  },
};

const retryAfter = (description: string) => ({
  'Retry-After': { description, schema: { type: 'integer' } },
});

const HEADERS: Record<number, ApiResponseOptions['headers']> = {
  401: {
    'WWW-Authenticate': { description: 'Always `Bearer`', schema: { type: 'string' } },
  },
  409: retryAfter('With idempotency_key_in_use: seconds to wait before retrying'),
  412: {
    ETag: { description: 'The current ETag of the resource', schema: { type: 'string' } },
  },
  429: retryAfter('Seconds until the account may make requests again'),
  503: retryAfter('Seconds to wait before trying again'),
};

const errorResponse = (
  status: number,
  { description = ERROR_DESCRIPTIONS[status], example = ERROR_EXAMPLES[status] } = {},
) =>
  ApiResponse({
    status,
    description,
    type: ErrorBodyDto,
    headers: HEADERS[status],
    example: { ...example, request_id: REQUEST_ID },
  });

/** The metadata key of @nestjs/swagger's security requirements (not exported by it). */
const API_SECURITY = 'swagger/apiSecurity';

/**
 * Documents a route, or every route of a controller, that needs no token: an empty list of
 * security requirements, which overrides the document's bearer default.
 */
export const ApiNoAuth = (): MethodDecorator & ClassDecorator =>
  ((target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    Reflect.defineMetadata(API_SECURITY, [], (descriptor?.value as object | undefined) ?? target);
    return descriptor ?? target;
  }) as MethodDecorator & ClassDecorator;

/** What any route of Assay's app may answer: the HTTP layer refuses a body that is not JSON. */
export const ApiAnyRoute = (): ClassDecorator => errorResponse(415);

/**
 * What every route of a /v1 controller needs and may answer: a bearer JWT (401 without),
 * the rate limit (429) and a database in working order (503).
 */
export const ApiBearer = (): ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(BEARER),
    ApiAnyRoute(),
    ...[401, 429, 503].map((s) => errorResponse(s)),
  );

/** The success answer of an operation and each error answer it can give, with the error schema. */
export function ApiErrors(
  success: ApiResponseOptions,
  ...errors: number[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiResponse(success), ...errors.map((s) => errorResponse(s)));
}

/** A statistics query: its 503 also when it runs past DB_STATS_TIMEOUT. */
export const ApiStatisticsTimeout = (): MethodDecorator =>
  errorResponse(503, {
    description:
      `${ERROR_DESCRIPTIONS[503]}, or the statistics query ran past DB_STATS_TIMEOUT: ` +
      'narrow it as the message says',
    example: {
      code: 'statistics_timeout',
      error:
        'The statistics query ran longer than 30 s (DB_STATS_TIMEOUT). Ask a narrower one: a ' +
        'shorter from–to range, a workflow or other filter, fewer group_by keys or a coarser ' +
        'interval.',
    },
  });

/** A GET of one resource: the If-None-Match it honours, and its 304. */
export const ApiNotModified = (): MethodDecorator =>
  applyDecorators(
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      description: 'ETags (or `*`) the caller holds: a match is answered 304 without a body.',
      schema: { type: 'string' },
    }),
    ApiResponse({
      status: 304,
      description: 'Not Modified: If-None-Match names the current ETag',
      headers: { ETag: { description: 'The current ETag', schema: { type: 'string' } } },
    }),
  );

/** A list answer: a bare array, paged by limit/cursor and a Link header. */
export function ApiPaged(type: Type, description: string, ...errors: number[]): MethodDecorator {
  return ApiErrors(
    {
      status: 200,
      type: [type],
      description: `${description}; a bare array`,
      headers: {
        Link: {
          description: 'When more rows remain: `<url of the next page>; rel="next"`',
          schema: { type: 'string' },
        },
      },
    },
    400,
    ...errors,
  );
}

/**
 * A write: documents the Idempotency-Key it takes, If-Match where `ifMatch` (PUT, PATCH,
 * DELETE of one resource), and what any write may answer: 403 for an evaluator token that
 * may not write, 409 and 422 (among others) for its Idempotency-Key, 413 for a body over
 * BODY_LIMIT (a DELETE's too).
 */
export function ApiWrite(options: { ifMatch?: boolean } = {}): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Makes a retry safe: the same key with the same request (within IDEMPOTENCY_TTL) gets ' +
        'the first answer again, with Idempotent-Replayed: true, and writes nothing; the same ' +
        'key with another request is a 422.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    }),
    ...(options.ifMatch
      ? [
          ApiHeader({
            name: 'If-Match',
            required: false,
            description: 'Write only while the resource has one of these ETags (or `*`); else 412.',
            schema: { type: 'string' },
          }),
          errorResponse(412),
        ]
      : []),
    ...[403, 409, 413, 422].map((s) => errorResponse(s)),
  );
}

/**
 * A property holding a `type` object or null: anyOf the object's $ref and `enum: [null]`.
 * OpenAPI 3.0 readers and plain JSON Schema readers both accept null there; `nullable`
 * beside a $ref or allOf would not make it acceptable to either.
 */
export const ApiPropertyOrNull =
  (type: Type, options: ApiPropertyOptions = {}): PropertyDecorator =>
  (target, key) => {
    ApiExtraModels(type)(target.constructor);
    ApiProperty({
      ...options,
      anyOf: [{ $ref: getSchemaPath(type) }, { enum: [null] }],
    })(target, key);
  };
