import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

// Sequences start below 2^30, so that adding a batch's count never overflows the 31 bits
// UUIDv7 (RFC 9562 §6.2, method 1) gives them.
const SEQUENCE_START_MASK = 0x3fffffff;

/**
 * `count` UUIDv7 in increasing order: one millisecond, a counter from a random start, and
 * random bits drawn all at once (the library draws them with a crypto call per id, which a
 * batch of 500 evaluations and their 500 events felt).
 */
export function orderedUuids(count: number): string[] {
  // One id alone from the library, whose state keeps ids of successive writes in order
  // within a millisecond.
  if (count === 1) return [uuidv7()];
  const random = randomFillSync(new Uint8Array(16 * count + 4));
  const msecs = Date.now();
  const start = new DataView(random.buffer).getUint32(16 * count) & SEQUENCE_START_MASK;
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    ids[i] = uuidv7({ msecs, seq: start + i, random: random.subarray(16 * i, 16 * i + 16) });
  }
  return ids;
}
