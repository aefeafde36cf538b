import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import type { ChangeEvent, RowEvents } from '../events/outbox.js';
import { etagOf, matchesStrongly } from './etag.js';
import { outcomeOf } from './outcome.js';
import type { VersionedRow } from './row-cache.js';
import { Statement } from './statement.js';

/** Rows of one table a write depends on: `where` may use the read's parameters. */
export interface SharedRead {
  table: string;
  /** The select list; it must include the row's id as `id` unless the rows are `asIs`. */
  columns: string;
  where: string;
  /**
   * Read as they are, neither locked nor checked again: rows that the write's last statement
   * locks and checks itself. `table` may then carry an alias for the columns to use.
   */
  asIs?: boolean;
}

/** Rows read without a lock, with the versions the write's last statement checks. */
interface Guard {
  table: string;
  ids: string[];
  versions: string[];
}

type Rows = Record<string, object[]>;

/**
 * One write in progress: who writes, the If-Match it must honour, what it read and the
 * change events it has made so far. A write either runs in a transaction (`tx`, opened by
 * WritePipeline.run), or is made at once: its reads take no locks, and its one last
 * statement re-checks them (WritePipeline.runAtOnce).
 */
export class WriteScope {
  readonly events: (ChangeEvent | RowEvents)[] = [];
  /** Whether the pipeline's checks have run for this write. */
  checked = false;
  /** Until the write has ended (committed or rolled back): changes may join it. */
  open = true;
  /** Whether a change was sent alone (`sendAlone`): it committed by itself. */
  sentAlone = false;
  /** What the last statement answered (`Statement.answer`), once it has run. */
  answer?: unknown;
  private preconditionChecked = false;
  private readonly onCommit: (() => void)[] = [];
  private readonly guards: Guard[] = [];
  private last?: Statement;
  private runner?: QueryRunner;

  /** Conditions on the last statement's own steps that, unmet, make the write run again. */
  private readonly expected: string[] = [];

  constructor(
    private readonly db: DataSource,
    readonly principal: Principal,
    private readonly ifMatch: string[] | undefined,
    /** Which try of the write this is: 1, then 2… after what it read changed under it. */
    readonly attempt = 1,
    /** Whether the write stores its answer under an Idempotency-Key. */
    private readonly keyed = false,
  ) {}

  /** The write's transaction, for a change run by WritePipeline.run. */
  get tx(): EntityManager {
    if (!this.inTransaction) {
      throw new Error('A change made at once has no transaction: read with readShared');
    }
    return this.runner!.manager;
  }

  get inTransaction(): boolean {
    return this.runner?.isTransactionActive === true;
  }

  /** The write's connection, taken from the pool on first use and kept to its end. */
  async connect(): Promise<QueryRunner> {
    if (!this.runner) {
      const runner = this.db.createQueryRunner();
      await runner.connect();
      this.runner = runner;
    }
    return this.runner;
  }

  /** Opens the write's transaction; called by the pipeline. */
  async begin(): Promise<void> {
    const runner = await this.connect();
    await runner.startTransaction();
  }

  /**
   * Sends one statement: in the transaction when there is one, else on a connection of its
   * own (a write made at once holds none between its read and its write).
   */
  async query<T>(sql: string, params: unknown[]): Promise<T> {
    if (!this.runner) return this.db.query<T>(sql, params);
    return this.runner.query(sql, params) as Promise<T>;
  }

  /**
   * Reads rows the write depends on, several tables in one statement (`where` clauses share
   * `params`); rows come as JSON. In a transaction they are locked FOR SHARE until commit.
   * Otherwise they are read as they are, and the write's last statement locks them and
   * checks that none has changed or gone since: if one has, the whole write runs again.
   */
  async readShared<R extends Rows>(
    reads: { [K in keyof R]: SharedRead },
    params: unknown[],
  ): Promise<R> {
    const names = Object.keys(reads) as (keyof R & string)[];
    const locking = this.inTransaction;
    const select = (r: SharedRead) =>
      r.asIs
        ? `SELECT ${r.columns} FROM ${r.table} WHERE ${r.where}`
        : locking
          ? `SELECT ${r.columns} FROM ${r.table} WHERE ${r.where} ORDER BY id FOR SHARE`
          : `SELECT ${r.columns}, xmin::text AS "version$" FROM ${r.table} WHERE ${r.where}`;
    const [found] = await this.query<Record<string, object[] | null>[]>(
      `WITH ${names.map((n, i) => `r${i} AS (${select(reads[n])})`).join(', ')}
       SELECT ${names.map((n, i) => `(SELECT json_agg(r${i}) FROM r${i}) AS "${n}"`).join(', ')}`,
      params,
    );
    const result = {} as Record<string, object[]>;
    for (const name of names) {
      // Rows read without a lock keep their `version$`: deleting it would slow every later
      // access to them.
      const rows = (found[name] ?? []) as VersionedRow[];
      if (!locking && !reads[name].asIs) this.reuse(reads[name].table, rows);
      result[name] = rows;
    }
    return result as R;
  }

  /**
   * Makes this write depend on rows of `table` read without a lock, by it or by an earlier
   * write (a RowCache): its last statement checks that they are still as read, or the write
   * runs again.
   */
  reuse(table: string, rows: VersionedRow[]): void {
    if (this.inTransaction) throw new Error('A transaction reads what it depends on, locked');
    if (rows.length === 0) return;
    this.guards.push({ table, ids: rows.map((r) => r.id), versions: rows.map((r) => r.version$) });
  }

  /**
   * The condition that what this write read without locks is still as it read it, taking
   * shared locks on it; undefined when it read nothing that way.
   */
  unchangedSql(statement: Statement): string | undefined {
    if (this.guards.length === 0 && this.expected.length === 0) return undefined;
    const account = this.guards.length > 0 ? statement.param(this.principal.accountId) : '';
    return [
      ...this.guards.map(
        (g) => `(SELECT count(*) FROM (SELECT 1 FROM ${g.table}
                  WHERE account_id = ${account} AND id = ANY(${statement.param(g.ids)}::uuid[])
                    AND xmin::text = ANY(${statement.param(g.versions)}::text[])
                  FOR SHARE) AS g) = ${g.ids.length}`,
      ),
      ...this.expected,
    ].join(' AND ');
  }

  /**
   * For a change made at once that changes a row it read without a lock, only if the row
   * is still as read (its step's WHERE says so): the step must return `count` rows, else
   * the row changed meanwhile, nothing is written, and the write runs again.
   */
  expectRows(step: string, count: number): void {
    this.expected.push(`(SELECT count(*) FROM ${step}) = ${count}`);
  }

  /**
   * Sends a change that is one statement whose rows the change needs (the last statement is
   * sent once the answer is made, too late for them). Alone in its write, it is its own
   * commit: one round trip, no BEGIN or COMMIT. When the write has more to commit with it (an
   * Idempotency-Key with its answer, rows read without locks, events, a last statement), the
   * write's transaction is opened first. Nothing may follow it but the answer.
   */
  async sendAlone<T>(sql: string, params: unknown[]): Promise<T> {
    const alone =
      !this.keyed &&
      this.guards.length === 0 &&
      this.expected.length === 0 &&
      this.events.length === 0 &&
      this.last === undefined;
    if (!alone && !this.inTransaction) await this.begin();
    if (this.inTransaction) return this.query(sql, params);
    await this.connect();
    this.sentAlone = true;
    return outcomeOf(this.query<T>(sql, params));
  }

  /** Records that a resource changed: an event in the outbox, committed with the change. */
  emit(type: string, data: object): void {
    this.events.push({ type, data });
  }

  /**
   * Records `count` changes of one type whose events the last statement makes: one per row
   * of its step `from`, in `orderBy` order, with `data`, a JSON expression over that step's
   * columns and the statement's parameters.
   */
  emitEach(type: string, count: number, rows: Pick<RowEvents, 'from' | 'data' | 'orderBy'>): void {
    if (count > 0) this.events.push({ type, count, ...rows });
  }

  /**
   * Hands over the change's last statement, which the pipeline sends together with the
   * events and the stored answer: one round trip for all three. For a change that needs
   * nothing back from it and expects no error of it (only the database can make it fail).
   * In a transaction, a second one sends the first at once; a write made at once has one.
   */
  async lastly(statement: Statement): Promise<void> {
    const earlier = this.last;
    this.last = statement;
    if (!earlier) return;
    if (!this.inTransaction) throw new Error('A change made at once has one last statement');
    await this.query(earlier.sql, earlier.params);
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

  /** Commits the transaction, if one was opened; called by the pipeline. */
  async commit(): Promise<void> {
    if (this.inTransaction) await this.runner!.commitTransaction();
  }

  /** Called by the pipeline once the write has committed. */
  committed(): void {
    for (const fn of this.onCommit) fn();
  }

  /** Rolls back what is open and gives the connection back; called by the pipeline. */
  async close(): Promise<void> {
    this.open = false;
    const runner = this.runner;
    if (!runner) return;
    this.runner = undefined;
    try {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    } finally {
      await runner.release();
    }
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

  /** Whether the request sent an If-Match: its change must read what it changes first. */
  get conditional(): boolean {
    return this.ifMatch !== undefined;
  }

  /** Whether an If-Match was sent that no change ever checked: a write that would ignore it. */
  get preconditionIgnored(): boolean {
    return this.ifMatch !== undefined && !this.preconditionChecked;
  }
}

/** The write a host app's own code is running, which nested writes join. */
export const currentWrite = new AsyncLocalStorage<WriteScope>();
