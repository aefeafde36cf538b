import { orderedUuids } from '../common/ordered-uuids.js';

/** A change a write made, on its way to the outbox. */
export interface ChangeEvent {
  type: string;
  accountId: string;
  data: object;
}

/** An event as readers get it: over SSE, in the JSON list, on NATS. */
export interface AssayEvent {
  id: string;
  type: string;
  account_id: string;
  occurred_at: string;
  data: object;
}

/**
 * The INSERT of a write's events, as one statement with parameters from `first` on (so
 * that the write pipeline can join it with its own last statement). Ids are UUIDv7, made
 * here in order, so that events of one write keep the order they were made in. The events
 * travel as one JSON array: one native JSON.stringify, where arrays of parameters would
 * have each element escaped again by the driver.
 */
export function outboxInsert(
  events: ChangeEvent[],
  first: number,
): { sql: string; params: unknown[] } {
  const ids = orderedUuids(events.length);
  const rows = events.map((e, i) => ({
    id: ids[i],
    account_id: e.accountId,
    type: e.type,
    data: e.data,
  }));
  return {
    sql: `INSERT INTO outbox_events (id, account_id, type, occurred_at, data)
          SELECT e.id, e.account_id, e.type, $${first + 1}, e.data
            FROM ROWS FROM (json_to_recordset($${first}::json)
                              AS (id uuid, account_id varchar, type varchar, data json))
                 WITH ORDINALITY AS e(id, account_id, type, data, n)
           ORDER BY e.n`,
    params: [JSON.stringify(rows), new Date()],
  };
}
