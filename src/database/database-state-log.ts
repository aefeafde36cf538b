import { Logger } from '@nestjs/common';
import type { DatabaseTrouble } from '../common/database-trouble.js';

/** How often a full pool or cancelled statements are summed up in one line while they last. */
export const SUMMARY_MS = 10_000;

/**
 * Keeps the log proportionate when the database fails: an outage is one line when it
 * starts and one when the database answers again, with the number of requests refused
 * meanwhile; a full pool or cancelled statements are one line, then one count per 10 s.
 * Never a stack trace per request.
 */
export class DatabaseStateLog {
  private readonly logger = new Logger('Database');
  private outage?: { since: number; refused: number };
  private readonly spells = new Map<DatabaseTrouble, { refused: number }>();

  refused(trouble: DatabaseTrouble, cause: unknown): void {
    if (trouble === 'database_unavailable') {
      if (this.outage) {
        this.outage.refused++;
        return;
      }
      this.outage = { since: Date.now(), refused: 1 };
      this.logger.error(
        `The database is unreachable (${describe(cause)}); requests are answered 503 until it is back.`,
      );
      return;
    }
    const spell = this.spells.get(trouble);
    if (spell) {
      spell.refused++;
      return;
    }
    this.spells.set(trouble, { refused: 0 });
    this.logger.warn(`A request was answered 503 ${trouble}: ${describe(cause)}.`);
    setTimeout(() => {
      const { refused } = this.spells.get(trouble)!;
      this.spells.delete(trouble);
      if (refused > 0) {
        this.logger.warn(
          `${refused} more requests were answered 503 ${trouble} in the last ${SUMMARY_MS / 1000} s.`,
        );
      }
    }, SUMMARY_MS).unref();
  }

  /** A query succeeded: the database is there. Called on every answer, so it must be cheap. */
  answered(): void {
    if (!this.outage) return;
    const { since, refused } = this.outage;
    this.outage = undefined;
    this.logger.log(
      `The database is reachable again after ${((Date.now() - since) / 1000).toFixed(1)} s; ` +
        `${refused} requests were answered 503 meanwhile.`,
    );
  }
}

function describe(cause: unknown): string {
  const message = (cause as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message ? message : 'no reason given';
}

/** One per process, shared by the pool that sees queries succeed and the filter that answers. */
export const databaseStateLog = new DatabaseStateLog();
