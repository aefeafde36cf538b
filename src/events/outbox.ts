import { v7 as uuidv7 } from 'uuid';

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
 * here in order, so that events of one write keep the order they were made in.
 */
export function outboxInsert(
  events: ChangeEvent[],
  first: number,
): { sql: string; params: unknown[] } {
  const at = new Date();
  const p = (i: number) => `$${first + i}`;
  return {
    sql: `INSERT INTO outbox_events (id, account_id, type, occurred_at, data)
          SELECT id, account_id, type, ${p(3)}, data
            FROM unnest(${p(0)}::uuid[], ${p(1)}::varchar[], ${p(2)}::varchar[], ${p(4)}::json[])
              WITH ORDINALITY AS e(id, account_id, type, data, n)
           ORDER BY n`,
    params: [
      events.map(() => uuidv7()),
      events.map((e) => e.accountId),
      events.map((e) => e.type),
      at,
      events.map((e) => JSON.stringify(e.data)),
    ],
  };
}
