import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { type ErrorCode, statusOf } from '../src/common/api-error.js';
import { OPENAPI_FILE } from '../src/openapi/openapi.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json;

/** Every object in the document that has `key`, with where it is. */
function withKey(key: string, value: unknown, at = '#'): [string, Json][] {
  if (value === null || typeof value !== 'object') return [];
  const own: [string, Json][] = key in value ? [[at, value]] : [];
  return [...own, ...Object.entries(value).flatMap(([k, v]) => withKey(key, v, `${at}/${k}`))];
}

const OPERATIONS = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
  Object.entries(item as Json).map(([method, op]) => ({
    path,
    method,
    op: op as Json,
    at: `${method.toUpperCase()} ${path}`,
  })),
);
const isPublic = (path: string) => path.startsWith('/health/');

describe('the committed OpenAPI document tells the truth', () => {
  it('a nullable enum lists null among its values (OpenAPI 3.0 validators need it)', () => {
    const nullable = withKey('enum', doc).filter(([, s]) => s.nullable === true);
    expect(nullable.length).toBeGreaterThan(0);
    for (const [at, s] of nullable)
      expect([at, s.enum]).toEqual([at, expect.arrayContaining([null])]);
  });

  it('says nullable only beside a type, which is all OpenAPI 3.0.3 lets it mean', () => {
    // Beside allOf or a $ref, nullable is lost on every reader: null is then refused.
    const misplaced = withKey('nullable', doc)
      .filter(
        ([, s]) =>
          typeof s.type !== 'string' || ['allOf', 'anyOf', 'oneOf', '$ref'].some((k) => k in s),
      )
      .map(([at]) => at);
    expect(misplaced).toEqual([]);
  });

  it('needs a bearer token everywhere but on the health probes, which say they need none', () => {
    expect(doc.security).toEqual([{ BearerAuth: [] }]);
    for (const { path, op, at } of OPERATIONS) {
      const needs = isPublic(path) ? [] : [{ BearerAuth: [] }];
      expect([at, op.security]).toEqual([at, needs]);
    }
  });

  it('declares every path parameter, all of them ids, a uuid', () => {
    const params = OPERATIONS.flatMap(({ op, at }) =>
      ((op.parameters ?? []) as Json[])
        .filter((p) => p.in === 'path')
        .map((p) => [at, p.name, p.schema.format]),
    );
    expect(params.length).toBeGreaterThan(20);
    expect(params.filter(([, , format]) => format !== 'uuid')).toEqual([]);
  });

  it('documents each status an operation can answer, with the error body', () => {
    const problems: string[] = [];
    for (const { path, method, op, at } of OPERATIONS) {
      const expected = [415];
      if (!isPublic(path)) expected.push(400, 401, 429, 503);
      if (path.includes('{')) expected.push(404);
      if (method !== 'get') expected.push(403, 409, 413, 422);
      if (['put', 'patch', 'delete'].includes(method)) expected.push(412); // If-Match
      for (const status of expected) {
        const schema = op.responses[status]?.content?.['application/json']?.schema as Json;
        if (schema?.$ref !== '#/components/schemas/Error') problems.push(`${at}: ${status}`);
      }
      for (const status of [409, 429, 503].filter((s) => op.responses[s])) {
        if (!op.responses[status].headers?.['Retry-After'])
          problems.push(`${at}: ${status} Retry-After`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("each error answer's example carries the code its status really has", () => {
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        for (const [status, answer] of Object.entries((op as Json).responses as Json)) {
          const body = (answer as Json).content?.['application/json'] as Json | undefined;
          if (body?.schema?.$ref !== '#/components/schemas/Error') continue;
          const example = body.example as Json;
          const where = `${method} ${path} ${status}`;
          expect([where, typeof example?.error, typeof example?.request_id]).toEqual([
            where,
            'string',
            'string',
          ]);
          expect([where, statusOf(example.code as ErrorCode)]).toEqual([where, Number(status)]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('says on the page how to get a token', () => {
    expect(doc.info.description).toContain('npm run token -- --account A --sub U');
    expect(doc.info.description).toContain('identity provider');
  });
});
