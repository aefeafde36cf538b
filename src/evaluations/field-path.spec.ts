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
});
