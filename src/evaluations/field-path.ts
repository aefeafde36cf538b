import { JSONPathEnvironment, JSONPathError, type JSONPathQuery } from 'json-p3';
import { ApiError } from '../common/api-error.js';
import { MAX_JSON_DEPTH } from '../common/json-body.js';
import { regexFunctions } from './path-regex.js';

/**
 * What one field_path may cost on a run's outputs: at most MAX_PATH_MS of the event loop,
 * and MAX_PATH_WORK units of work, where every value read costs 1 and a regular expression
 * the text's length times the pattern's length (charged before it runs, as it cannot be
 * stopped once started). Past either the request is refused rather than block every other.
 */
export const MAX_PATH_MS = 100;
export const MAX_PATH_WORK = 1_000_000;

class WorkLimitReached extends Error {}

/** The budget of the query running now (queries are synchronous: one at a time). */
let workLeft = Infinity;
let deadline = Infinity;

function charge(work: number): void {
  workLeft -= work;
  if (workLeft < 0 || performance.now() > deadline) throw new WorkLimitReached();
}

// Strict RFC 9535, with match() and search() on RE2. The recursion limit is above the
// deepest body Assay accepts, so a recorded output never reaches it.
const jsonPath = new JSONPathEnvironment({ strict: true, maxRecursionDepth: MAX_JSON_DEPTH + 2 });
for (const [name, fn] of Object.entries(regexFunctions(charge))) {
  jsonPath.functionRegister.set(name, fn);
}

const invalid = (why: string) =>
  new ApiError('invalid_field_path', `field_path is not a valid JSONPath (RFC 9535): ${why}.`, [
    { field: 'field_path', message: why },
  ]);

/** Compiles a field_path; a path without a leading `$` is read as `$.` + path. */
export function compileFieldPath(fieldPath: string): JSONPathQuery {
  const path = fieldPath.startsWith('$') ? fieldPath : `$.${fieldPath}`;
  try {
    return jsonPath.compile(path);
  } catch (err) {
    if (err instanceof JSONPathError) throw invalid(err.message);
    // The parser recurses: brackets and parentheses nested deep enough overflow its stack.
    if (err instanceof RangeError) throw invalid('it nests too deeply');
    throw err;
  }
}

/**
 * A read-only view of a JSON value that charges every property it reads (see charge), so
 * that json-p3, which knows no budget, cannot do more work than MAX_PATH_WORK.
 */
function metered(value: object, views = new WeakMap<object, object>()): object {
  const known = views.get(value);
  if (known) return known;
  const view = new Proxy(value, {
    get(target, key, receiver) {
      charge(1);
      const item: unknown = Reflect.get(target, key, receiver);
      return item !== null && typeof item === 'object' ? metered(item, views) : item;
    },
    ownKeys(target) {
      const keys = Reflect.ownKeys(target);
      charge(keys.length);
      return keys;
    },
  });
  views.set(value, view);
  return view;
}

/**
 * Whether the path selects at least one node of the value. A path that would do more work
 * than MAX_PATH_WORK, or recurse deeper than json-p3 allows, is refused with a 422.
 */
export function selectsSomething(query: JSONPathQuery, value: unknown): boolean {
  workLeft = MAX_PATH_WORK;
  deadline = performance.now() + MAX_PATH_MS;
  try {
    const target = value !== null && typeof value === 'object' ? metered(value) : value;
    return query.query(target as never).length > 0;
  } catch (err) {
    if (err instanceof WorkLimitReached || err instanceof RangeError) {
      throw tooCostly('it would read too much of the outputs; make it narrower');
    }
    if (err instanceof JSONPathError) throw tooCostly(err.message);
    throw err;
  } finally {
    workLeft = Infinity;
    deadline = Infinity;
  }
}

const tooCostly = (why: string) =>
  new ApiError('field_path_too_costly', `field_path cannot be evaluated: ${why}.`, [
    { field: 'field_path', message: why },
  ]);
