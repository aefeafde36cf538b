/** The pauses before each retry of a webhook delivery (Standard Webhooks' own schedule). */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';
/** How long a receiver has to answer 2xx. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;
/** How long a rotated secret keeps signing beside the new one: 24 h. */
export const DEFAULT_WEBHOOK_SECRET_OVERLAP = 24 * 3600;
/** The most retries a schedule may hold. */
export const MAX_RETRIES = 20;
/** Each pause is varied by up to this share either way, so that receivers are not hit in step. */
export const JITTER = 0.2;

const DURATION = String.raw`\d{1,9}(?:ms|s|m|h)`;
export const RETRY_SCHEDULE = new RegExp(
  `^\\s*${DURATION}\\s*(?:,\\s*${DURATION}\\s*){0,${MAX_RETRIES - 1}}$`,
);
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
export const MIN_PAUSE_MS = 100;
export const MAX_PAUSE_MS = 24 * 3_600_000;

/** The schedule's pauses in milliseconds; throws naming the first that is out of range. */
export function parseRetrySchedule(schedule: string): number[] {
  if (!RETRY_SCHEDULE.test(schedule)) throw new Error(`not a retry schedule: "${schedule}"`);
  return schedule.split(',').map((part) => {
    const [, n, unit] = /^(\d+)(ms|s|m|h)$/.exec(part.trim())!;
    const ms = Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
    if (ms < MIN_PAUSE_MS || ms > MAX_PAUSE_MS) {
      throw new Error(`each pause must be from 100ms to 24h (got ${part.trim()})`);
    }
    return ms;
  });
}

/** The pause before retry `n` (1 for the first), jittered; undefined once the schedule is spent. */
export function pauseBefore(
  schedule: readonly number[],
  n: number,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[n - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/**
 * A Retry-After header's pause in milliseconds (seconds or an HTTP date), at most
 * `MAX_PAUSE_MS`; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, MAX_PAUSE_MS);
}
