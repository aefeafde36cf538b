/**
 * An answer that is not the route's usual one: another status (a 207 for a partial batch),
 * or, with `etagged` false, a body that is not the route's resource (a dry run's preview).
 */
export class Answer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly etagged?: boolean,
  ) {}
}

/** What a write answers: a fresh answer's value, or a replayed answer's stored JSON text. */
export interface WriteAnswer {
  status: number;
  headers: Record<string, string>;
  /** The body of a fresh answer; undefined for none (204). */
  value?: unknown;
  /**
   * The body of a fresh answer as JSON, made once: hashed for its ETag, stored under its
   * Idempotency-Key and sent as it is. Undefined for none.
   */
  text?: string;
  /** The stored JSON text of a replayed answer; null for none. */
  replayed?: { text: string | null };
}
