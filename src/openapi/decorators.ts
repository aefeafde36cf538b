import { applyDecorators, type Type } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { ErrorBodyDto } from './error-body.dto.js';

export const BEARER = 'BearerAuth';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request: malformed JSON, a wrong type, an unknown field or a bad UUID',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable: well-formed, but it breaks a rule',
};

/** Documents that every route of a controller needs a bearer JWT. */
export const ApiBearer = (): ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(BEARER),
    ApiResponse({ status: 401, description: ERROR_DESCRIPTIONS[401], type: ErrorBodyDto }),
  );

/** The success answer of an operation and each error answer it can give, with the error schema. */
export function ApiErrors(
  success: { status: number; type?: Type | [Type]; description: string },
  ...errors: number[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiResponse(success),
    ...errors.map((e) =>
      ApiResponse({ status: e, description: ERROR_DESCRIPTIONS[e], type: ErrorBodyDto }),
    ),
  );
}

/** A list answer: a bare array, paged by limit/cursor and a Link header. */
export function ApiPaged(type: Type, description: string, ...errors: number[]): MethodDecorator {
  return applyDecorators(
    ApiResponse({
      status: 200,
      type: [type],
      description: `${description}; a bare array`,
      headers: {
        Link: {
          description: 'When more rows remain: `<url of the next page>; rel="next"`',
          schema: { type: 'string' },
        },
      },
    }),
    ...[400, ...errors].map((e) =>
      ApiResponse({ status: e, description: ERROR_DESCRIPTIONS[e], type: ErrorBodyDto }),
    ),
  );
}
