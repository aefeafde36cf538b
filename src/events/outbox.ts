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
 * Events the write's last statement makes itself, one per row of its step `from`, in the
 * order of `orderBy`: their data is the JSON expression `data` makes over that step's
 * columns, with the statement's parameters and new ones it adds with `param`. For many
 * events at once, where building each one's JSON in the process, and parsing it again in
 * the database, would cost the write.
 */
export interface RowEvents {
  type: string;
  accountId: string;
  count: number;
  from: string;
  data: (param: (value: unknown) => string) => string;
  orderBy: string;
}

/**
 * The INSERT of a write's events, as one statement with parameters from `first` on (so
 * that the write pipeline can join it with its own last statement). Ids are UUIDv7, made
 * here in order, so that events of one write keep the order they were made in. Events
 * made here travel as one JSON array: one native JSON.stringify, where arrays of
 * parameters would have each element escaped again by the driver.
 */
export function outboxInsert(
  events: (ChangeEvent | RowEvents)[],
  first: number,
): { sql: string; params: unknown[] } {
  const ids = orderedUuids(events.reduce((n, e) => n + ('count' in e ? e.count : 1), 0));
  const params: unknown[] = [];
  const param = (value: unknown) => `$${first + params.push(value) - 1}`;
  const made: { id: string; g: number; account_id: string; type: string; data: object }[] = [];
  const parts: string[] = [];
  let next = 0;
  events.forEach((e, g) => {
    if (!('count' in e)) {
      made.push({ id: ids[next++], g, account_id: e.accountId, type: e.type, data: e.data });
      return;
    }
    const own = ids.slice(next, (next += e.count));
    parts.push(
      `SELECT i.id, ${g} AS g, i.n, ${param(e.accountId)}::varchar, ${param(e.type)}::varchar, r.data
         FROM (SELECT ${e.data(param)} AS data, row_number() OVER (ORDER BY ${e.orderBy}) AS n
                 FROM ${e.from}) AS r
         JOIN unnest(string_to_array(${param(own.join(','))}, ',')::uuid[])
              WITH ORDINALITY AS i(id, n) USING (n)`,
    );
  });
  if (made.length > 0) {
    parts.push(
      `SELECT e.id, e.g, e.n, e.account_id, e.type, e.data
         FROM ROWS FROM (json_to_recordset(${param(JSON.stringify(made))}::json)
                         AS (id uuid, g int, account_id varchar, type varchar, data json))
              WITH ORDINALITY AS e(id, g, account_id, type, data, n)`,
    );
  }
  return {
    sql: `INSERT INTO outbox_events (id, account_id, type, occurred_at, data)
          SELECT e.id, e.account_id, e.type, ${param(new Date())}, e.data
            FROM (${parts.join(' UNION ALL ')}) AS e(id, g, n, account_id, type, data)
           ORDER BY e.g, e.n`,
    params,
  };
}
