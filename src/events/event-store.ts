import type { EntityManager } from 'typeorm';
import type { AssayEvent } from './outbox.js';

type Db = Pick<EntityManager, 'query'>;

// Any constant will do, as long as it is Assay's alone: "assay-seq" in ASCII.
const SEQUENCER_LOCK = 0x61737361792d73;

/**
 * The events of the outbox rows `w`, one row each, with their positions: a write's events
 * hold the positions up to its last, in the order they were made.
 */
const EVENTS_OF = (w: string) => `(SELECT e.event->>'id' AS id, e.event->>'type' AS type,
    ${w}.account_id, to_char(${w}.occurred_at AT TIME ZONE 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at, e.event->'data' AS data,
    ${w}.last_position - ${w}.count + e.n AS position
  FROM json_array_elements(${w}.events) WITH ORDINALITY AS e(event, n))`;

export interface StoredEvent extends AssayEvent {
  position: string;
}

/** The event as readers get it, without where it stands in the outbox. */
export const toEvent = ({ id, type, account_id, occurred_at, data }: StoredEvent): AssayEvent => ({
  id,
  type,
  account_id,
  occurred_at,
  data,
});

/**
 * Gives committed writes the positions of their events, in the order writers inserted them,
 * in one statement. One sequencer at a time (a transaction-level advisory lock, so that any
 * instance may do it), and only writes already committed get them: a reader that follows
 * positions never sees an event appear behind one it has passed. Writes to one resource
 * take turns under its row lock, so their insertion order is their commit order.
 *
 * The statement's snapshot may be older than the lock, and miss that another sequencer
 * positioned some of these writes in between: locking them (FOR UPDATE) looks at them
 * again and leaves those out. The positions given come from the sequence after the lock,
 * as one block (only the sequencer draws from it), above every one given before (a failed
 * round leaves a gap, which readers step over). The UPDATE finds its rows by seq alone:
 * asked again whether they are unpositioned, the planner may scan every unpositioned write
 * once for each one it positions. Returns how many events it positioned.
 *
 * The statement is the function assay_assign_positions (migration PositionsByIndex), which
 * reads the unpositioned writes by a plain scan of their index, so that the entries of the
 * versions it has left dead are skipped by the next round.
 */
export async function assignPositions(db: Db, limit = 5000): Promise<number> {
  const [{ events }] = await db.query<{ events: number }[]>(
    'SELECT assay_assign_positions($1, $2) AS events',
    [limit, SEQUENCER_LOCK],
  );
  return events;
}

/**
 * The position of an account's event by its id, if it is still kept. A write's events have
 * ids between its first and last, made within a few milliseconds: the search looks at
 * writes whose last id lies less than a minute after this one.
 */
export async function positionOf(db: Db, accountId: string, id: string): Promise<string | null> {
  const [row] = await db.query<{ position: string }[]>(
    `SELECT e.position::text AS position
       FROM outbox_writes w CROSS JOIN LATERAL ${EVENTS_OF('w')} AS e
      WHERE w.account_id = $1 AND w.last_id >= $2 AND w.last_id < $3 AND w.first_id <= $2
        AND w.last_position IS NOT NULL AND e.id = $2::text
      ORDER BY w.last_id LIMIT 1`,
    [accountId, id, minuteAfter(id)],
  );
  return row?.position ?? null;
}

/** The smallest UUIDv7 made a minute after `id` was (all ones past the end of time). */
function minuteAfter(id: string): string {
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16) + 60_000;
  const hex = ms.toString(16).padStart(12, '0');
  if (hex.length > 12) return 'ffffffff-ffff-ffff-ffff-ffffffffffff';
  return `${hex.slice(0, 8)}-${hex.slice(8)}-0000-0000-000000000000`;
}

/** The last position given so far: "now" for a reader that wants only what comes next. */
export async function headPosition(db: Db): Promise<string> {
  const [{ head }] = await db.query<{ head: string }[]>(
    'SELECT coalesce(max(last_position), 0)::text AS head FROM outbox_writes',
  );
  return head;
}

/**
 * An account's events after a position, in order. "last_position IS NOT NULL" says nothing
 * new, but lets a plan kept for the statement use the account's (partial) index: without
 * it, that plan scanned every account's events for a quiet account's page.
 */
export function eventsAfter(
  db: Db,
  accountId: string,
  position: string,
  limit: number,
): Promise<StoredEvent[]> {
  return db.query<StoredEvent[]>(
    `SELECT e.id, e.type, e.account_id, e.occurred_at, e.data, e.position::text AS position
       FROM (SELECT * FROM outbox_writes
              WHERE account_id = $1 AND last_position > $2 AND last_position IS NOT NULL
              ORDER BY last_position LIMIT $3) AS w
      CROSS JOIN LATERAL ${EVENTS_OF('w')} AS e
      WHERE e.position > $2
      ORDER BY e.position LIMIT $3`,
    [accountId, position, limit],
  );
}

/** A leased event, with the outbox row (`seq`) it came in. */
export interface LeasedEvent extends StoredEvent {
  write: string;
}

/**
 * Leases the oldest writes not yet relayed, about `limit` events' worth (at least one
 * write), locked so that no other instance relays them meanwhile, and gives their events
 * the broker has not acknowledged yet. Another instance holding older ones means this one
 * must wait its turn (an empty lease): events of one resource go out in order. Call it
 * inside a transaction.
 */
export async function leaseUnsent(tx: Db, limit: number): Promise<LeasedEvent[]> {
  // By a plain scan of the index of unsent writes, which marks the entries of the writes
  // earlier rounds sent (dead row versions until vacuum) as it passes them: through a
  // bitmap, the planner's choice, every round read all of them again (6,095 buffers a round
  // with 39,000 sent since the last vacuum).
  await tx.query(
    `SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true)`,
  );
  const leased = await tx.query<(LeasedEvent & { in_turn: boolean })[]>(
    `WITH next AS (
       SELECT seq, last_position, sum(count) OVER (ORDER BY last_position) - count AS before
         FROM (SELECT seq, count, last_position FROM outbox_writes
                WHERE sent_at IS NULL AND last_position IS NOT NULL
                ORDER BY last_position LIMIT $1) AS oldest),
     leased AS MATERIALIZED (
       SELECT w.* FROM outbox_writes w JOIN next USING (seq)
        WHERE next.before < $1 AND w.sent_at IS NULL
        FOR UPDATE OF w SKIP LOCKED),
     in_turn AS MATERIALIZED (
       SELECT (SELECT min(last_position) FROM leased) =
              (SELECT min(last_position) FROM next) AS in_turn)
     SELECT e.id, e.type, e.account_id, e.occurred_at, e.data, e.position::text AS position,
            leased.seq::text AS write, in_turn
       FROM leased CROSS JOIN LATERAL ${EVENTS_OF('leased')} AS e, in_turn
      WHERE NOT (e.position = ANY(coalesce(leased.relayed, '{}')))
      ORDER BY e.position`,
    [limit],
  );
  if (leased.length === 0 || !leased[0].in_turn) return [];
  return leased.map(({ in_turn: _inTurn, ...event }) => event);
}

/**
 * Records what the broker acknowledged: a write all of whose events it has is sent; of one
 * whose events went only in part, those are kept, so that they do not go out again.
 */
export async function markSent(tx: Db, sent: LeasedEvent[]): Promise<void> {
  await tx.query(
    `UPDATE outbox_writes w
        SET sent_at = CASE WHEN u.done THEN clock_timestamp() END,
            relayed = CASE WHEN u.done THEN NULL ELSE coalesce(w.relayed, '{}') || u.positions END
       FROM (SELECT s.seq, array_agg(s.position) AS positions,
                    count(*) + coalesce(cardinality(o.relayed), 0) = o.count AS done
               FROM unnest($1::bigint[], $2::bigint[]) AS s(seq, position)
               JOIN outbox_writes o USING (seq)
              GROUP BY s.seq, o.count, o.relayed) AS u
      WHERE w.seq = u.seq AND w.sent_at IS NULL`,
    [sent.map((e) => e.write), sent.map((e) => e.position)],
  );
}

/** Deletes writes past retention that need nothing more (relayed, or no relay to wait for). */
export async function purgeOldEvents(db: Db, days: number, relayed: boolean): Promise<number> {
  const [{ events }] = await db.query<{ events: number }[]>(
    `WITH purged AS (
       DELETE FROM outbox_writes WHERE seq IN (
         SELECT seq FROM outbox_writes
          WHERE occurred_at < now() - make_interval(days => $1) AND last_position IS NOT NULL
            AND ($2 = false OR sent_at IS NOT NULL)
          LIMIT 5000)
       RETURNING count)
     SELECT coalesce(sum(count), 0)::int AS events FROM purged`,
    [days, relayed],
  );
  return events;
}
