import { LRUCache } from 'lru-cache';

/** A row as a write made at once reads it without a lock: with the version it checks. */
export type VersionedRow = { id: string; version$: string };

/** What one table's kept rows may weigh, their JSON's length in characters. */
export const MAX_KEPT_CHARS = 32 * 1024 * 1024;

/**
 * Rows of one table that writes made at once read by id, kept for the next writes: a write
 * that finds every row it needs here sends no read, and its last statement checks their
 * versions exactly as it checks rows it has just read (`WriteScope.reuse`). A kept row that
 * has changed or gone makes that write run again, reading afresh; so a row is never trusted
 * beyond what the database confirms when the write commits. Rows that were not found are
 * never kept: nothing confirms an absence.
 */
export class RowCache<R extends VersionedRow> {
  private readonly rows = new LRUCache<string, R>({
    maxSize: MAX_KEPT_CHARS,
    sizeCalculation: (row) => JSON.stringify(row).length,
  });

  constructor(
    /** The table, as the read names it: the guards check their versions there. */
    readonly table: string,
  ) {}

  /** The rows of `ids` in `account`, or undefined unless every one is kept. */
  all(account: string, ids: string[]): R[] | undefined {
    const found: R[] = [];
    for (const id of ids) {
      const row = this.rows.get(`${account}/${id}`);
      if (!row) return undefined;
      found.push(row);
    }
    return found;
  }

  /** Keeps rows just read: shared by the writes that reuse them, so frozen. */
  keep(account: string, rows: R[]): void {
    for (const row of rows) this.rows.set(`${account}/${row.id}`, Object.freeze(row));
  }
}
