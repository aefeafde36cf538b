const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * A Date as PostgreSQL reads an instant, for every Date: `toISOString()` writes the year
 * 1 BC as "0000" and years past 9999 as "+010000", which PostgreSQL refuses.
 */
export function pgInstant(at: Date): string {
  const year = at.getUTCFullYear();
  // PostgreSQL has no year 0: the year before 1 AD is 1 BC.
  const era = year < 1 ? ' BC' : '';
  return (
    `${pad(year < 1 ? 1 - year : year, 4)}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}` +
    `T${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}` +
    `.${pad(at.getUTCMilliseconds(), 3)}+00:00${era}`
  );
}

/**
 * The earliest instant PostgreSQL holds: 4714-11-24 BC (its Julian day 0). Its latest,
 * 294276 AD, is later than any JavaScript Date.
 */
const EARLIEST = Date.UTC(-4713, 10, 24);

/** Whether this is an instant (not an Invalid Date) that PostgreSQL can hold. */
export const isHoldableInstant = (at: Date): boolean => at.getTime() >= EARLIEST;

let lastShown = { time: NaN, text: '' };

/**
 * A Date as JSON shows it (`toJSON`), its text made once for many rows in a row that share
 * it: the evaluations of a batch are created at one instant, and each Date's own toISOString
 * costs about a microsecond, twice per evaluation.
 */
export function shownInstant(at: Date): string {
  const time = at.getTime();
  if (time !== lastShown.time) lastShown = { time, text: at.toISOString() };
  return lastShown.text;
}
