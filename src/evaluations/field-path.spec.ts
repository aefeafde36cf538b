import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../common/api-error.js';
import { compileFieldPath, selectsSomething } from './field-path.js';

describe('field paths', () => {
  const doc = { answer: { scores: [1, 5] }, tags: ['a'] };

  it('reads a path without $ as $. + path', () => {
    expect(selectsSomething(compileFieldPath('answer.scores[1]'), doc)).toBe(true);
    expect(selectsSomething(compileFieldPath('$.answer.scores[?@ > 4]'), doc)).toBe(true);
    expect(selectsSomething(compileFieldPath('answer.missing'), doc)).toBe(false);
  });

  it('refuses bad syntax and non-standard extensions with invalid_field_path', () => {
    for (const path of ['$.a[', '$.a..', 'a b']) {
      expect(() => compileFieldPath(path)).toThrow(ApiError);
      try {
        compileFieldPath(path);
      } catch (err) {
        expect((err as ApiError).code).toBe('invalid_field_path');
      }
    }
  });

  it('match() and search() follow I-Regexp on a linear-time engine', () => {
    const selects = (path: string, value: object = { long: `${'a'.repeat(30_000)}!` }) =>
      selectsSomething(compileFieldPath(path), value);
    expect(selects("$[?match(@, 'a.c')]", { t: 'abc' })).toBe(true);
    expect(selects("$[?match(@, 'a.c')]", { n: 'a\nc' })).toBe(false); // . is not a line break
    expect(selects("$[?match(@, 'a^c')]", { t: 'a^c' })).toBe(true); // ^ is a plain character
    expect(selects("$[?search(@, '\\\\p{Lu}')]", { u: 'xÀ' })).toBe(true);
    expect(selects("$[?search(@, '\\\\p{Lu}')]", { u: 'xà' })).toBe(false);
    expect(selects("$[?match(@, '[')]", { t: '[' })).toBe(false); // not an I-Regexp
    const started = Date.now();
    expect(selects("$[?search(@, '(a+)+$')]")).toBe(false); // backtracking would take minutes
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a path that would do too much work is refused, not left to run', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 60; i++) deep = { a: deep };
    const started = Date.now();
    try {
      selectsSomething(compileFieldPath('$..*..*..*..*..*..*'), deep);
      throw new Error('expected a refusal');
    } catch (err) {
      expect((err as ApiError).code).toBe('field_path_too_costly');
    }
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
