import { describe, expect, it } from '@jest/globals';
import { validate, version } from 'uuid';
import { orderedUuids } from './ordered-uuids.js';

describe('orderedUuids', () => {
  it('makes valid, distinct UUIDv7 in increasing order', () => {
    for (const count of [1, 2, 500, 5000]) {
      const ids = orderedUuids(count);
      expect(ids).toHaveLength(count);
      expect(ids.every((id) => validate(id) && version(id) === 7)).toBe(true);
      expect(new Set(ids).size).toBe(count);
      expect([...ids].sort()).toEqual(ids);
    }
  });

  it('makes each call’s ids greater than the last call’s, within a millisecond too', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => orderedUuids((i % 3) + 1)).flat();
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('stamps them with the current millisecond', () => {
    const before = Date.now();
    const [id] = orderedUuids(3);
    const msecs = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(Date.now());
  });
});
