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
  401: 'Unauthorized',
  403: 'Forbidden: the token names an evaluator that is not registered, or is disabled',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed: If-Match does not match the current ETag (sent back in ETag)',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable: well-formed, but it breaks a rule',
  429: "Too Many Requests: the account's rate limit is spent",
  503: 'Service Unavailable: the database is unreachable, or a statistics query ran past DB_STATS_TIMEOUT (narrow it)',
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
  409: {
    code: 'conflict',
    error:
      'A label named "helpfulness" already exists; choose another name or archive that label first.',
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
    code: 'value_out_of_range',
    error: 'Label "helpfulness" is continuous: value must be from 0 to 5, got 7.',
    details: [{ field: 'value', message: 'must be from 0 to 5' }],
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

const HEADERS: Record<number, ApiResponseOptions['headers']> = {
  412: {
    ETag: { description: 'The current ETag of the resource', schema: { type: 'string' } },
  },
  429: {
    'Retry-After': {
      description: 'Seconds until the account may make requests again',
      schema: { type: 'integer' },
    },
  },
  503: {
    'Retry-After': {
      description: 'Seconds to wait before trying again',
      schema: { type: 'integer' },
    },
  },
};

const errorResponse = (status: number) =>
  ApiResponse({
    status,
    description: ERROR_DESCRIPTIONS[status],
    type: ErrorBodyDto,
    headers: HEADERS[status],
    example: { ...ERROR_EXAMPLES[status], request_id: REQUEST_ID },
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

/** Documents that every route of a controller needs a bearer JWT and is rate limited. */
export const ApiBearer = (): ClassDecorator =>
  applyDecorators(ApiBearerAuth(BEARER), errorResponse(401), errorResponse(429));

/** The success answer of an operation and each error answer it can give, with the error schema. */
export function ApiErrors(
  success: ApiResponseOptions,
  ...errors: number[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiResponse(success), ...errors.map(errorResponse));
}

/** A write made at once (WritePipeline.runAtOnce): its 409 when what it reads keeps changing. */
export const ApiReadChanged = (): MethodDecorator =>
  ApiResponse({
    status: 409,
    description:
      'The runs, labels or evaluator the write reads kept changing while it was written; ' +
      'nothing was written: retry it',
    type: ErrorBodyDto,
    example: {
      code: 'conflict',
      error: 'What this write depends on kept changing while it was made (5 tries); retry it.',
      request_id: REQUEST_ID,
    },
  });

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
 * DELETE of one resource), and the 403 of an evaluator token that may not write.
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
    errorResponse(403),
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
