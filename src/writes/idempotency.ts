import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ApiError } from '../common/api-error.js';

/** What a request stored under its Idempotency-Key: enough to answer it again. */
export interface StoredAnswer {
  fingerprint: string;
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/** The longest Idempotency-Key, in characters. */
export const MAX_IDEMPOTENCY_KEY = 255;
// 1–255 visible ASCII characters; the IETF draft writes the key as a quoted string.
const KEY = new RegExp(`^[\\x21-\\x7e]{1,${MAX_IDEMPOTENCY_KEY}}$`);

/** The Idempotency-Key header as a key, or undefined when none was sent; 400 when malformed. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header : [header];
  const unquoted = raw.length === 1 ? raw[0].replace(/^"(.*)"$/, '$1') : '';
  if (!KEY.test(unquoted)) {
    throw new ApiError(
      'invalid_idempotency_key',
      `The Idempotency-Key header must be one key of 1 to ${MAX_IDEMPOTENCY_KEY} visible ASCII characters ` +
        '(optionally in double quotes).',
    );
  }
  return unquoted;
}

/** JSON with every object's keys in order, so that equal bodies give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What makes two requests "the same request": method, route, path and query parameters, body. */
export function fingerprintOf(request: {
  method: string;
  route: string;
  params: unknown;
  query?: unknown;
  body: unknown;
}): string {
  const parts = [request.method, request.route, request.params ?? {}, request.body ?? null];
  // The query counts when there is one (a dry run is another request than the change it
  // previews); without one the fingerprint is what it always was, so stored keys still match.
  const query = request.query as object | undefined;
  if (query && Object.keys(query).length > 0) parts.push(query);
  return createHash('sha256').update(canonical(parts)).digest('hex');
}

/**
 * The INSERT that claims a key and stores its answer, with parameters from `first` on, for
 * the write's last statement; it returns a row only when the key was free (or expired).
 * Another request's uncommitted claim of the same key makes it wait for that request: when
 * that one commits, the key is taken, and the pipeline answers with that request's answer.
 */
export function claimSql(
  first: number,
  claim: { accountId: string; key: string; fingerprint: string; ttlSeconds: number },
  answer: { status: number; headers: Record<string, string>; body: string | null },
): { sql: string; params: unknown[] } {
  const p = (n: number) => `$${first + n}`;
  return {
    sql: `INSERT INTO idempotency_keys AS k
            (account_id, key, fingerprint, status, headers, body, created_at, expires_at)
          VALUES (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, now(),
                  now() + make_interval(secs => ${p(6)}))
          ON CONFLICT (account_id, key) DO UPDATE
             SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,
                 headers = EXCLUDED.headers, body = EXCLUDED.body,
                 created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
           WHERE k.expires_at <= now()
          RETURNING 1`,
    params: [
      claim.accountId,
      claim.key,
      claim.fingerprint,
      answer.status,
      JSON.stringify(answer.headers),
      answer.body,
      claim.ttlSeconds,
    ],
  };
}

/** The answer stored under a key that has not expired, if any. */
export async function findAnswer(
  db: Pick<EntityManager, 'query'>,
  accountId: string,
  key: string,
): Promise<StoredAnswer | undefined> {
  const [stored] = await db.query<StoredAnswer[]>(
    `SELECT fingerprint, status, headers, body FROM idempotency_keys
      WHERE account_id = $1 AND key = $2 AND expires_at > now()`,
    [accountId, key],
  );
  return stored;
}

/** Deletes expired keys, a bounded number at a time. */
export async function purgeExpiredKeys(db: Pick<EntityManager, 'query'>): Promise<number> {
  const rows = await db.query<unknown[]>(
    `DELETE FROM idempotency_keys WHERE ctid IN (
       SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT 5000)
     RETURNING 1`,
  );
  return rows.length;
}
