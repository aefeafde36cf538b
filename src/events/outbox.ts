import { orderedUuids } from '../common/ordered-uuids.js';

/** A change a write made, on its way to the outbox. */
export interface ChangeEvent {
  type: string;
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
  count: number;
  from: string;
  data: (param: (value: unknown) => string) => string;
  orderBy: string;
}

/**
 * The INSERT of the events of one write of an account, as one outbox row, in one statement
 * with parameters from `first` on (so that the write pipeline can join it with its own last
 * statement). Ids are UUIDv7, made here in order, so that events of one write keep the
 * order they were made in.
 * Events made here travel as one JSON array: one native JSON.stringify, where arrays of
 * parameters would have each element escaped again by the driver.
 */
export function outboxInsert(
  accountId: string,
  events: (ChangeEvent | RowEvents)[],
  first: number,
): { sql: string; params: unknown[] } {
  const total = events.reduce((n, e) => n + ('count' in e ? e.count : 1), 0);
  const ids = orderedUuids(total);
  const params: unknown[] = [];
  const param = (value: unknown) => `$${first + params.push(value) - 1}`;
  const made: { id: string; type: string; data: object }[] = [];
  const madeGroups: number[] = [];
  const parts: string[] = [];
  let next = 0;
  events.forEach((e, g) => {
    if (!('count' in e)) {
      made.push({ id: ids[next++], type: e.type, data: e.data });
      madeGroups.push(g);
      return;
    }
    const own = ids.slice(next, (next += e.count));
    parts.push(
      `SELECT ${g}, i.n, json_build_object('id', i.id, 'type', ${param(e.type)}::text, 'data', r.data)
         FROM (SELECT ${e.data(param)} AS data, row_number() OVER (ORDER BY ${e.orderBy}) AS n
                 FROM ${e.from}) AS r
         JOIN unnest(string_to_array(${param(own.join(','))}, ',')::uuid[])
              WITH ORDINALITY AS i(id, n) USING (n)`,
    );
  });
  let array: string;
  if (parts.length === 0) {
    array = `${param(JSON.stringify(made))}::json`;
  } else {
    if (made.length > 0) {
      parts.push(
        `SELECT (string_to_array(${param(madeGroups.join(','))}, ',')::int[])[m.n], m.n, m.event
           FROM json_array_elements(${param(JSON.stringify(made))}::json) WITH ORDINALITY AS m(event, n)`,
      );
    }
    array = `(SELECT json_agg(e.event ORDER BY e.g, e.n)
                FROM (${parts.join(' UNION ALL ')}) AS e(g, n, event))`;
  }
  const row = [accountId, ids[0], ids[total - 1], total, new Date()].map(param);
  return {
    sql: `INSERT INTO outbox_writes (account_id, first_id, last_id, count, occurred_at, events)
          VALUES (${row.join(', ')}, ${array})`,
    params,
  };
}
