import { JSONPathEnvironment, JSONPathError, type JSONPathQuery } from 'json-p3';
import { ApiError } from '../common/api-error.js';

// Strict RFC 9535: no extensions beyond the standard's syntax and functions.
const jsonPath = new JSONPathEnvironment({ strict: true });

/** Compiles a field_path; a path without a leading `$` is read as `$.` + path. */
export function compileFieldPath(fieldPath: string): JSONPathQuery {
  const path = fieldPath.startsWith('$') ? fieldPath : `$.${fieldPath}`;
  try {
    return jsonPath.compile(path);
  } catch (err) {
    if (err instanceof JSONPathError) {
      throw new ApiError(
        'invalid_field_path',
        `field_path is not a valid JSONPath (RFC 9535): ${err.message}.`,
        [{ field: 'field_path', message: err.message }],
      );
    }
    throw err;
  }
}

/** Whether the path selects at least one node of the value. */
export function selectsSomething(query: JSONPathQuery, value: unknown): boolean {
  return query.query(value as never).length > 0;
}
