import { describe, expect, it } from '@jest/globals';
import { StatementNames } from './pg-driver.js';

describe('StatementNames', () => {
  it('names each text once, and no more texts than its limit', () => {
    const names = new StatementNames(2);
    const a = names.of('SELECT $1');
    const b = names.of('SELECT $1, $2');
    expect(a).toMatch(/^assay_\d+$/);
    expect(b).not.toBe(a);
    expect(names.of('SELECT $1')).toBe(a);
    expect(names.of('SELECT $1, $2, $3')).toBeUndefined();
    expect(names.of('SELECT $1, $2')).toBe(b);
  });
});
