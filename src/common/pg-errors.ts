import { QueryFailedError } from 'typeorm';
import { ApiError } from './api-error.js';

/** The SQLSTATE of a failed query, if it was the database that refused it. */
export function sqlState(err: unknown): string | undefined {
  if (!(err instanceof QueryFailedError)) return undefined;
  const code = (err.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';

/** Runs a write; a unique violation (an id or name taken) becomes a 409 with this message. */
export async function conflictIfTaken<T>(message: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (sqlState(err) === UNIQUE_VIOLATION) throw new ApiError('conflict', message);
    throw err;
  }
}
