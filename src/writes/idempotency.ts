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

// 1–255 visible ASCII characters; the IETF draft writes the key as a quoted string.
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header as a key, or undefined when none was sent; 400 when malformed. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header : [header];
  const unquoted = raw.length === 1 ? raw[0].replace(/^"(.*)"$/, '$1') : '';
  if (!KEY.test(unquoted)) {
    throw new ApiError(
      'invalid_idempotency_key',
      'The Idempotency-Key header must be one key of 1 to 255 visible ASCII characters ' +
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

/** What makes two requests "the same request": method, route, path parameters and body. */
export function fingerprintOf(request: {
  method: string;
  route: string;
  params: unknown;
  body: unknown;
}): string {
  return createHash('sha256')
    .update(canonical([request.method, request.route, request.params ?? {}, request.body ?? null]))
    .digest('hex');
}

/**
 * Claims a key inside the write's transaction. A row another transaction inserted and has
 * not committed yet makes this INSERT wait for that one: when it commits, the key is taken
 * and its answer comes back; when it rolls back, the key is ours. An expired key is taken
 * over. Returns the earlier answer, or undefined when this request is the first.
 */
export async function claimKey(
  tx: EntityManager,
  accountId: string,
  key: string,
  fingerprint: string,
  ttlSeconds: number,
): Promise<StoredAnswer | undefined> {
  const claimed = await tx.query<unknown[]>(
    `INSERT INTO idempotency_keys AS k (account_id, key, fingerprint, created_at, expires_at)
     VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4))
     ON CONFLICT (account_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at,
            expires_at = EXCLUDED.expires_at, status = NULL, headers = NULL, body = NULL
      WHERE k.expires_at <= now()
     RETURNING 1`,
    [accountId, key, fingerprint, ttlSeconds],
  );
  if (claimed.length > 0) return undefined;
  const [stored] = await tx.query<StoredAnswer[]>(
    `SELECT fingerprint, status, headers, body FROM idempotency_keys
      WHERE account_id = $1 AND key = $2`,
    [accountId, key],
  );
  return stored;
}

/** The SQL that stores a request's answer under its claimed key, for the pipeline's last statement. */
export function storeAnswerSql(first: number): string {
  return `UPDATE idempotency_keys SET status = $${first + 2}, headers = $${first + 3}, body = $${first + 4}
           WHERE account_id = $${first} AND key = $${first + 1}`;
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
