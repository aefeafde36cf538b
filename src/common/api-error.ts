import { HttpStatus } from '@nestjs/common';

/** The machine-readable codes of Assay's error body, one per kind of failure. */
export type ErrorCode =
  | 'invalid_json'
  | 'malformed_request'
  | 'request_timeout'
  | 'uri_too_long'
  | 'headers_too_large'
  | 'invalid_text'
  | 'nesting_too_deep'
  | 'validation_failed'
  | 'invalid_path_parameter'
  | 'invalid_field_path'
  | 'invalid_cursor'
  | 'unauthorized'
  | 'not_found'
  | 'route_not_found'
  | 'events_disabled'
  | 'method_not_allowed'
  | 'not_acceptable'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'value_out_of_range'
  | 'invalid_label_definition'
  | 'label_archived'
  | 'unknown_output'
  | 'field_path_not_found'
  | 'field_path_too_costly'
  | 'rate_limited'
  | 'invalid_idempotency_key'
  | 'idempotency_key_reused'
  | 'idempotency_key_in_use'
  | 'precondition_failed'
  | 'evaluator_not_registered'
  | 'evaluator_disabled'
  | 'batch_rejected'
  | 'reviews_are_by_people'
  | 'queue_archived'
  | 'queue_has_reviews'
  | 'already_reviewed'
  | 'item_full'
  | 'run_deleted'
  | 'review_labels_mismatch'
  | 'internal_error'
  | 'database_unavailable'
  | 'database_busy'
  | 'database_timeout'
  | 'outcome_unknown'
  | 'statistics_timeout'
  | 'webhook_url_refused'
  | 'webhook_limit_reached'
  | 'unknown_event';

/** Not in Nest's HttpStatus. */
const REQUEST_HEADER_FIELDS_TOO_LARGE = 431 as HttpStatus;

export function statusOf(code: ErrorCode): HttpStatus {
  switch (code) {
    case 'invalid_json':
    case 'malformed_request':
    case 'invalid_text':
    case 'nesting_too_deep':
    case 'validation_failed':
    case 'invalid_path_parameter':
    case 'invalid_field_path':
    case 'invalid_cursor':
    case 'invalid_idempotency_key':
      return HttpStatus.BAD_REQUEST;
    case 'unauthorized':
      return HttpStatus.UNAUTHORIZED;
    case 'evaluator_not_registered':
    case 'evaluator_disabled':
    case 'reviews_are_by_people':
      return HttpStatus.FORBIDDEN;
    case 'not_found':
    case 'route_not_found':
    case 'events_disabled':
      return HttpStatus.NOT_FOUND;
    case 'method_not_allowed':
      return HttpStatus.METHOD_NOT_ALLOWED;
    case 'not_acceptable':
      return HttpStatus.NOT_ACCEPTABLE;
    case 'conflict':
    case 'idempotency_key_in_use':
    case 'queue_archived':
    case 'queue_has_reviews':
    case 'already_reviewed':
    case 'item_full':
    case 'run_deleted':
      return HttpStatus.CONFLICT;
    case 'request_timeout':
      return HttpStatus.REQUEST_TIMEOUT;
    case 'precondition_failed':
      return HttpStatus.PRECONDITION_FAILED;
    case 'payload_too_large':
      return HttpStatus.PAYLOAD_TOO_LARGE;
    case 'uri_too_long':
      return HttpStatus.URI_TOO_LONG;
    case 'unsupported_media_type':
      return HttpStatus.UNSUPPORTED_MEDIA_TYPE;
    case 'value_out_of_range':
    case 'invalid_label_definition':
    case 'label_archived':
    case 'unknown_output':
    case 'field_path_not_found':
    case 'field_path_too_costly':
    case 'idempotency_key_reused':
    case 'batch_rejected':
    case 'review_labels_mismatch':
    case 'webhook_url_refused':
    case 'webhook_limit_reached':
    case 'unknown_event':
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case 'rate_limited':
      return HttpStatus.TOO_MANY_REQUESTS;
    case 'headers_too_large':
      return REQUEST_HEADER_FIELDS_TOO_LARGE;
    case 'internal_error':
      return HttpStatus.INTERNAL_SERVER_ERROR;
    case 'database_unavailable':
    case 'database_busy':
    case 'database_timeout':
    case 'outcome_unknown':
    case 'statistics_timeout':
      return HttpStatus.SERVICE_UNAVAILABLE;
  }
}

export interface ErrorDetail {
  field: string;
  message: string;
}

/**
 * An error Assay answers on purpose: a code, a sentence a person can act on, details, and
 * the headers that go with it (Retry-After, ETag). A `cause` is logged, never sent.
 */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }

  get status(): HttpStatus {
    return statusOf(this.code);
  }

  static notFound(what: string, id: string): ApiError {
    return new ApiError('not_found', `${what} ${id} was not found.`);
  }
}
