import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import type { ChangeEvent } from '../events/outbox.js';
import { etagOf, matchesStrongly } from './etag.js';
import { Statement } from './statement.js';

/**
 * One write in progress: its transaction, who writes, the If-Match it must honour and the
 * change events it has made so far. Features receive it from WritePipeline.run and do all
 * their reads and writes through `tx`.
 */
export class WriteScope {
  readonly events: ChangeEvent[] = [];
  private preconditionChecked = false;
  private readonly onCommit: (() => void)[] = [];
  private last?: Statement;

  constructor(
    readonly tx: EntityManager,
    readonly principal: Principal,
    private readonly ifMatch: string[] | undefined,
  ) {}

  /** Records that a resource changed: an event in the outbox, committed with the change. */
  emit(type: string, data: object): void {
    this.events.push({ type, accountId: this.principal.accountId, data });
  }

  /**
   * Hands over the change's last statement, which the pipeline sends together with the
   * events and the stored answer: one round trip for all three. For a change that needs
   * nothing back from it and expects no error of it (only the database can make it fail).
   * A second one sends the first at once.
   */
  async lastly(statement: Statement): Promise<void> {
    const earlier = this.last;
    this.last = statement;
    if (earlier) await this.tx.query(earlier.sql, earlier.params);
  }

  /** The last statement handed over, for the pipeline to complete; empty when none was. */
  takeLast(): Statement {
    const last = this.last ?? new Statement();
    this.last = undefined;
    return last;
  }

  /** Runs `fn` once the write has committed, never when it rolls back: for counters. */
  afterCommit(fn: () => void): void {
    this.onCommit.push(fn);
  }

  /** Called by the pipeline once the transaction committed. */
  committed(): void {
    for (const fn of this.onCommit) fn();
  }

  /**
   * Honours If-Match against the resource as it is now (read under a lock, as the API
   * shows it): 412 with its current ETag when no tag matches. Call it before changing it.
   */
  precondition(current: object): void {
    this.preconditionChecked = true;
    if (this.ifMatch === undefined) return;
    const etag = etagOf(current);
    if (!matchesStrongly(this.ifMatch, etag)) {
      throw new ApiError(
        'precondition_failed',
        'The resource has changed since you read it (If-Match does not match its ETag); ' +
          'read it again and retry with the new ETag.',
        undefined,
        { ETag: etag },
      );
    }
  }

  /** Whether an If-Match was sent that no change ever checked: a write that would ignore it. */
  get preconditionIgnored(): boolean {
    return this.ifMatch !== undefined && !this.preconditionChecked;
  }
}

/** The write the current request is running, which nested writes join. */
export const currentWrite = new AsyncLocalStorage<WriteScope>();
