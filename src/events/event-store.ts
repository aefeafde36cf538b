import type { EntityManager } from 'typeorm';
import type { AssayEvent } from './outbox.js';

type Db = Pick<EntityManager, 'query'>;

// Any constant will do, as long as it is Assay's alone: "assay-seq" in ASCII.
const SEQUENCER_LOCK = 0x61737361792d73;

const EVENT_COLUMNS = `id, type, account_id, to_char(occurred_at AT TIME ZONE 'UTC',
  'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at, data, position::text AS position`;

export interface StoredEvent extends AssayEvent {
  position: string;
}

/** The event as readers get it, without where it stands in the outbox. */
export const toEvent = ({ position: _position, ...event }: StoredEvent): AssayEvent => event;

/**
 * Gives committed events their positions, in the order writers inserted them, in one
 * statement. One sequencer at a time (a transaction-level advisory lock, so that any
 * instance may do it), and only events already committed get one: a reader that follows
 * positions never sees an event appear behind one it has passed. Writes to one resource
 * take turns under its row lock, so their insertion order is their commit order.
 *
 * The statement's snapshot may be older than the lock, and miss that another sequencer
 * positioned some of these events in between: locking them (FOR UPDATE) looks at them
 * again and leaves those out. The positions given come from the sequence after the lock,
 * above every one given before (a failed round leaves a gap, which readers step over).
 * The UPDATE finds its rows by seq alone: asked again whether they are unpositioned, the
 * planner may scan every unpositioned event once for each one it positions.
 */
export async function assignPositions(db: Db, limit = 5000): Promise<number> {
  const rows = await db.query<unknown[]>(
    `WITH sequencer AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($2) AS held),
     todo AS MATERIALIZED (
       SELECT seq FROM outbox_events
        WHERE position IS NULL AND (SELECT held FROM sequencer)
        ORDER BY seq LIMIT $1 FOR UPDATE),
     numbered AS MATERIALIZED (
       SELECT seq, nextval('outbox_events_position_seq') AS position FROM todo)
     UPDATE outbox_events o SET position = n.position FROM numbered n
      WHERE o.seq = n.seq
     RETURNING 1`,
    [limit, SEQUENCER_LOCK],
  );
  return rows.length;
}

/** The position of an account's event by its id, if it is still kept. */
export async function positionOf(db: Db, accountId: string, id: string): Promise<string | null> {
  const [row] = await db.query<{ position: string }[]>(
    'SELECT position::text AS position FROM outbox_events WHERE account_id = $1 AND id = $2 AND position IS NOT NULL',
    [accountId, id],
  );
  return row?.position ?? null;
}

/** The last position given so far: "now" for a reader that wants only what comes next. */
export async function headPosition(db: Db): Promise<string> {
  const [{ head }] = await db.query<{ head: string }[]>(
    'SELECT coalesce(max(position), 0)::text AS head FROM outbox_events',
  );
  return head;
}

/**
 * An account's events after a position, in order. "position IS NOT NULL" says nothing
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
    `SELECT ${EVENT_COLUMNS} FROM outbox_events
      WHERE account_id = $1 AND position > $2 AND position IS NOT NULL
      ORDER BY outbox_events.position LIMIT $3`,
    [accountId, position, limit],
  );
}

/**
 * Leases the oldest events not yet relayed, locked so that no other instance relays them
 * meanwhile. Another instance holding older ones means this one must wait its turn (an
 * empty lease): events of one resource go out in order. Call it inside a transaction.
 */
export async function leaseUnsent(tx: Db, limit: number): Promise<StoredEvent[]> {
  const leased = await tx.query<(StoredEvent & { oldest: string })[]>(
    `WITH leased AS (
       SELECT * FROM outbox_events WHERE sent_at IS NULL AND position IS NOT NULL
        ORDER BY position LIMIT $1 FOR UPDATE SKIP LOCKED)
     SELECT ${EVENT_COLUMNS}, (SELECT min(position)::text FROM outbox_events
                                WHERE sent_at IS NULL AND position IS NOT NULL) AS oldest
       FROM leased ORDER BY leased.position`,
    [limit],
  );
  if (leased.length === 0 || leased[0].oldest !== leased[0].position) return [];
  return leased.map(({ oldest: _oldest, ...event }) => event);
}

export async function markSent(tx: Db, positions: string[]): Promise<void> {
  await tx.query(
    `UPDATE outbox_events SET sent_at = clock_timestamp()
      WHERE position = ANY($1::bigint[]) AND position IS NOT NULL AND sent_at IS NULL`,
    [positions],
  );
}

/** Deletes events past retention that need nothing more (relayed, or no relay to wait for). */
export async function purgeOldEvents(db: Db, days: number, relayed: boolean): Promise<number> {
  const rows = await db.query<unknown[]>(
    `DELETE FROM outbox_events WHERE seq IN (
       SELECT seq FROM outbox_events
        WHERE occurred_at < now() - make_interval(days => $1) AND position IS NOT NULL
          AND ($2 = false OR sent_at IS NOT NULL)
        LIMIT 5000)
     RETURNING 1`,
    [days, relayed],
  );
  return rows.length;
}
