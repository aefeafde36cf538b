import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

// A sequence starts below 2^30, so that the ids of one millisecond rarely reach the end of
// the 32 bits UUIDv7 (RFC 9562 §6.2, method 1) gives it; past 2^31 the next ids move on to
// the next millisecond instead.
const SEQUENCE_START_MASK = 0x3fffffff;
const SEQUENCE_END = 0x7fffffff;

// Random bytes for many ids are drawn at once: the library draws them with a crypto call
// per id, which cost a POST (an evaluation's id and its event's) more than the ids were worth.
export const POOLED_IDS = 256;
const pool = new Uint8Array(16 * POOLED_IDS);
let drawn = POOLED_IDS;

function random16(): Uint8Array {
  if (drawn === POOLED_IDS) {
    randomFillSync(pool);
    drawn = 0;
  }
  return pool.subarray(16 * drawn, 16 * ++drawn);
}

const last = { msecs: -Infinity, seq: 0 };

function freshSequence(): number {
  const r = random16();
  return ((r[0] << 24) | (r[1] << 16) | (r[2] << 8) | r[3]) & SEQUENCE_START_MASK;
}

/**
 * `count` UUIDv7 in increasing order, each greater than every id this process made before:
 * the millisecond, then a counter that starts at random in each millisecond and goes on
 * from one call to the next within it.
 */
export function orderedUuids(count: number): string[] {
  const now = Date.now();
  if (now > last.msecs) {
    last.msecs = now;
    last.seq = freshSequence();
  } else if (last.seq + count > SEQUENCE_END) {
    last.msecs++;
    last.seq = freshSequence();
  }
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    ids[i] = uuidv7({ msecs: last.msecs, seq: last.seq++, random: random16() });
  }
  return ids;
}
