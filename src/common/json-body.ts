import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { textProblem } from './text.js';

/** Objects and arrays may nest this deep in a body, the outermost one counting as 1. */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Where a value sits in the body, for `details.field`: `outputs.answer[2]`. */
const fieldOf = (parent: string, key: string | number): string =>
  typeof key === 'number'
    ? `${parent}[${key}]`
    : parent
      ? `${parent}.${key}`
      : key || '(empty key)';

/**
 * Refuses a parsed body that nests deeper than MAX_JSON_DEPTH or holds a string (a value
 * or a key) that cannot be stored exactly as sent. Iterative, so that no depth of nesting
 * can overflow the stack before it is refused.
 */
export function checkJsonBody(body: unknown): void {
  const stack: [unknown, number, string][] = [[body, 0, '']];
  while (stack.length) {
    const [value, depth, field] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) throw textError(field, `the value ${problem}`);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw new ApiError(
        'nesting_too_deep',
        `The request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`,
        [{ field: field.slice(0, 200), message: `nested deeper than ${MAX_JSON_DEPTH} levels` }],
      );
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([item, depth + 1, fieldOf(field, i)]));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const problem = textProblem(key);
      if (problem) throw textError(fieldOf(field, key), `the key ${problem}`);
      stack.push([item, depth + 1, fieldOf(field, key)]);
    }
  }
}

function textError(field: string, problem: string): ApiError {
  const where = field.slice(0, 200);
  return new ApiError('invalid_text', `The request body's ${where || 'value'}: ${problem}.`, [
    { field: where, message: problem },
  ]);
}

/**
 * Replaces Fastify's JSON body parser with one that also refuses bytes that are not UTF-8
 * (decoding would silently put U+FFFD in their place) and then checks the parsed body
 * (checkJsonBody). Fastify's own parsing stays: its errors, limits and its refusal of
 * `__proto__` and `constructor.prototype` keys.
 */
export function installJsonBodyParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request: FastifyRequest, raw: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      let text: string;
      try {
        text = utf8.decode(raw);
      } catch {
        done(
          new ApiError('invalid_text', 'The request body is not valid UTF-8 text.', [
            { field: '(body)', message: 'not valid UTF-8' },
          ]),
        );
        return;
      }
      void parse(request, text, (err, body) => {
        if (err) return done(err);
        try {
          checkJsonBody(body);
        } catch (problem) {
          return done(problem as Error);
        }
        done(null, body);
      });
    },
  );
}
