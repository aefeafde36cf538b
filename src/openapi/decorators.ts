import { applyDecorators, type Type } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiResponse, type ApiResponseOptions } from '@nestjs/swagger';
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
  });

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
