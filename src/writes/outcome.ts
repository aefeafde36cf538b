import { isDatabaseUnavailable } from '../common/error-response.js';
import { ApiError } from '../common/api-error.js';

/**
 * The commit of a write. When the connection dies during it, nobody can say whether the
 * write was stored: the answer says so, and a retry with the same Idempotency-Key is safe.
 */
export async function outcomeOf<T>(committing: Promise<T>): Promise<T> {
  try {
    return await committing;
  } catch (err) {
    if (!isDatabaseUnavailable(err) && !isDatabaseUnavailable(driverError(err))) throw err;
    throw new ApiError(
      'outcome_unknown',
      'The connection to the database broke while committing, so this write may or may not ' +
        'have been stored; retry with the same Idempotency-Key, or read before writing again.',
      undefined,
      { 'Retry-After': '1' },
      err,
    );
  }
}

const driverError = (err: unknown) => (err as { driverError?: unknown } | null)?.driverError;
