/** Why the database could not serve a request, as the 503's code says it. */
export type DatabaseTrouble = 'database_unavailable' | 'database_busy' | 'database_timeout';

// PostgreSQL error classes that mean "the database is not there right now".
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3])/;
// A statement cancelled by statement_timeout, or a lock wait by lock_timeout.
const TIMEOUT_SQLSTATE = new Set(['57014', '55P03']);
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
]);
/** pg-pool's words when no pooled connection came free in time (PGlite's pool says the same). */
export const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';

// Duck-typed: socket errors may come from another realm (or as an AggregateError), where
// `instanceof Error` is false although they are errors all the same.
function classify(err: unknown): DatabaseTrouble | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (TIMEOUT_SQLSTATE.has(code)) return 'database_timeout';
    if (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code)) {
      return 'database_unavailable';
    }
  }
  if (typeof message !== 'string') return undefined;
  if (message.includes(POOL_WAIT_TIMEOUT)) return 'database_busy';
  return /Connection terminated|Driver not Connected/i.test(message)
    ? 'database_unavailable'
    : undefined;
}

/** What kept the database from answering, if that is why `err` was thrown. */
export function databaseTrouble(err: unknown): DatabaseTrouble | undefined {
  return classify(err) ?? classify((err as { driverError?: unknown } | null)?.driverError);
}

/** How many connections the pool that refused had, when it said so. */
export function poolSizeOf(err: unknown): number | undefined {
  const size = (err as { connections?: unknown } | null)?.connections;
  return typeof size === 'number' ? size : undefined;
}
