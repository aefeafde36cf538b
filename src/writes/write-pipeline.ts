import {
  HttpStatus,
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  ASSAY_OPTIONS,
  type AssayModuleOptions,
  DEFAULT_IDEMPOTENCY_TTL,
} from '../assay-options.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { sqlState } from '../common/pg-errors.js';
import { outboxInsert } from '../events/outbox.js';
import { Answer, type WriteAnswer } from './answer.js';
import { etagOfText, parseEntityTags } from './etag.js';
import {
  claimSql,
  findAnswer,
  fingerprintOf,
  parseIdempotencyKey,
  purgeExpiredKeys,
  type StoredAnswer,
} from './idempotency.js';
import { outcomeOf } from './outcome.js';
import type { WriteCheck } from './write-check.js';
import { currentWrite, WriteScope } from './write-scope.js';

/** An HTTP request that writes, as the pipeline needs to know it. */
export interface HttpWrite {
  principal: Principal;
  method: string;
  route: string;
  params: unknown;
  query?: unknown;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** The route's status when it answers as usual (201 for POST, say). */
  status: number;
  /** Whether the answer is one resource, to be sent with its ETag. */
  etagged: boolean;
}

// SQLSTATEs of assay_require in a write's last statement (migration WriteGuards).
const STALE_READ = 'AS001';
const KEY_TAKEN = 'AS002';
/** How often a write made at once is tried while what it read keeps changing under it. */
export const MAX_ATTEMPTS = 5;
/** How often expired Idempotency-Keys are purged. */
export const PURGE_EVERY_MS = 60_000;

/** What a keyed request stores with its effect. */
interface Stored {
  claim: Claim;
  answer: WriteAnswer;
}
type Claim = Parameters<typeof claimSql>[1];

/** What a write made at once read has changed since: the write runs again. */
class StaleRead extends Error {}

const WRITE = Symbol('assay:write');

/**
 * A request's own principal, which carries the write the request is running: the services
 * the request calls pass it on, and their writes join that write. For a request, this takes
 * the place of an AsyncLocalStorage, which in Node 20 keeps promise hooks on for every
 * promise of the process once it has been used: reads included, that cost 7–15% of the
 * CPU of a request.
 */
type RequestPrincipal = Principal & { [WRITE]?: WriteScope };

/**
 * The one way Assay writes. For each write it runs the features' checks (a registered
 * evaluator, say) and the change, then sends one last statement with the change's last
 * step, its events for the outbox, the Idempotency-Key with its answer and the check that
 * what the write read without locks is unchanged; then it commits. A change that locks as
 * it goes gets a transaction (`run`); a change made at once (`runAtOnce`) is that one
 * statement alone, atomic by itself. Nothing of a failed write stays, and a key never
 * exists without its effect, nor the reverse. It knows no feature: features hand it a change.
 */
@Injectable()
export class WritePipeline implements OnModuleInit, OnApplicationShutdown {
  private readonly checks: WriteCheck[] = [];
  private readonly ttl: number;
  private readonly recordsEvents: boolean;
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ASSAY_OPTIONS) options: AssayModuleOptions,
  ) {
    this.ttl = options.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL;
    this.recordsEvents = options.events !== false;
  }

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => {
      purgeExpiredKeys(this.db).catch(() => undefined); // tried again next time
    }, PURGE_EVERY_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.purgeTimer);
  }

  /** A check every write must pass, run before its change. */
  addCheck(check: WriteCheck): void {
    this.checks.push(check);
  }

  /**
   * Runs a change in a transaction (`scope.tx`), inside the write of the current request,
   * or, called from elsewhere (a host app's own code), in a write of its own.
   */
  run<T>(principal: Principal, change: (scope: WriteScope) => Promise<T>): Promise<T> {
    return this.within(principal, true, change);
  }

  /**
   * Runs a change made at once: it reads with `scope.readShared` and hands its writes to
   * `scope.lastly` as one statement. Alone in its write, it costs two round trips and no
   * BEGIN or COMMIT; inside a transaction, it runs in it.
   */
  runAtOnce<T>(principal: Principal, change: (scope: WriteScope) => Promise<T>): Promise<T> {
    return this.within(principal, false, change);
  }

  /**
   * Serves one HTTP write: `handler` runs the route (validation and all) inside it. The
   * write's principal must be the request's own object, made for it alone (see
   * `requestPrincipal`): changes made with it join this write.
   */
  async request(write: HttpWrite, handler: () => Promise<unknown>): Promise<WriteAnswer> {
    const key = parseIdempotencyKey(write.headers['idempotency-key']);
    const ifMatch = parseEntityTags(single(write.headers['if-match']));
    const claim: Claim | undefined =
      key === undefined
        ? undefined
        : {
            accountId: write.principal.accountId,
            key,
            fingerprint: fingerprintOf(write),
            ttlSeconds: this.ttl,
          };
    try {
      const keyed = claim !== undefined;
      return await this.attempts(write.principal, { ifMatch, keyed }, async (scope) => {
        const answer = toAnswer(await handler(), write);
        if (scope.preconditionIgnored) {
          throw new Error(`${write.method} ${write.route} took If-Match but never checked it`);
        }
        return { result: answer, stored: claim && { claim, answer } };
      });
    } catch (err) {
      // A key already used gets its first answer again, whatever this request ran into.
      if (claim && err instanceof ApiError && err.status < HttpStatus.INTERNAL_SERVER_ERROR) {
        const earlier = await findAnswer(this.db, claim.accountId, claim.key).catch(() => {
          throw err;
        });
        if (earlier) return replay(earlier, claim.fingerprint);
      }
      throw err;
    }
  }

  private async within<T>(
    principal: Principal,
    transaction: boolean,
    change: (scope: WriteScope) => Promise<T>,
  ): Promise<T> {
    const enter = async (scope: WriteScope) => {
      if (transaction && !scope.inTransaction) await scope.begin();
      if (!scope.checked) {
        scope.checked = true;
        for (const check of this.checks) await check.check(scope);
      }
      return change(scope);
    };
    const ambient = ambientWrite(principal);
    if (ambient) return enter(ambient);
    return this.attempts(principal, undefined, async (scope) => ({
      result: await enter(scope),
    }));
  }

  /**
   * Makes a write, again while what it read without locks changes under it. A request's
   * write is found by its principal; any other, by the AsyncLocalStorage (a host app's own
   * code, which may run several writes at once under one principal object).
   */
  private async attempts<T>(
    principal: RequestPrincipal,
    /** A request's If-Match, and whether it stores its answer under a key; none for others. */
    request: { ifMatch?: string[]; keyed: boolean } | undefined,
    body: (scope: WriteScope) => Promise<{ result: T; stored?: Stored }>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const scope = new WriteScope(this.db, principal, request?.ifMatch, attempt, request?.keyed);
      if (request) principal[WRITE] = scope;
      try {
        const { result, stored } = await (request
          ? body(scope)
          : currentWrite.run(scope, () => body(scope)));
        await this.finish(scope, stored);
        scope.committed();
        return result;
      } catch (err) {
        if (!(err instanceof StaleRead)) throw err;
        if (attempt === MAX_ATTEMPTS) {
          throw new ApiError(
            'conflict',
            `What this write depends on kept changing while it was made (${MAX_ATTEMPTS} ` +
              'tries); retry it.',
          );
        }
      } finally {
        await scope.close();
      }
    }
  }

  /**
   * The write's last statement (the change's own last step, its events into the outbox,
   * its answer under its key, the check of what it read), then the commit.
   */
  private async finish(scope: WriteScope, stored: Stored | undefined): Promise<void> {
    const statement = scope.takeLast();
    if (this.recordsEvents && scope.events.length > 0) {
      statement.numbered(
        'outbox_write',
        outboxInsert(scope.principal.accountId, scope.events, statement.params.length + 1),
      );
    }
    const required: string[] = [];
    const unchanged = scope.unchangedSql(statement);
    if (unchanged)
      required.push(`assay_require(${unchanged}, '${STALE_READ}', 'read rows changed')`);
    if (stored) {
      const { status, headers, text } = stored.answer;
      const body = text ?? null;
      statement.numbered(
        'key_claim',
        claimSql(statement.params.length + 1, stored.claim, { status, headers, body }),
      );
      required.push(`assay_require(EXISTS (SELECT 1 FROM key_claim), '${KEY_TAKEN}', 'key taken')`);
    }
    const selected = required.length > 0 ? [required.join(' AND ')] : [];
    if (statement.answer) selected.push(`${statement.answer} AS answer`);
    if (selected.length > 0) statement.step('required', `SELECT ${selected.join(', ')}`);
    if (scope.sentAlone && !statement.empty) {
      throw new Error('A change sent alone has committed: nothing may follow it');
    }
    if (statement.empty) return outcomeOf(scope.commit());
    let rows: { answer?: unknown }[];
    if (scope.inTransaction) {
      rows = await refusals(scope.query(statement.sql, statement.params));
      await outcomeOf(scope.commit());
    } else {
      // Alone, the statement is the commit: a connection lost while it runs leaves it unknown.
      await scope.connect();
      rows = await refusals(outcomeOf(scope.query(statement.sql, statement.params)));
    }
    if (statement.answer) scope.answer = rows[0]?.answer;
  }
}

/** A principal for one request alone, to hand to `WritePipeline.request` and its route. */
export const requestPrincipal = (principal: Principal): Principal => ({ ...principal });

/** The write in progress that a change with this principal joins, if any. */
function ambientWrite(principal: RequestPrincipal): WriteScope | undefined {
  const own = principal[WRITE];
  if (own?.open) return own;
  return currentWrite.getStore();
}

/** The last statement's own refusals, as the pipeline acts on them. */
async function refusals<T>(sent: Promise<T>): Promise<T> {
  try {
    return await sent;
  } catch (err) {
    const state = sqlState(err);
    if (state === STALE_READ) throw new StaleRead();
    if (state !== KEY_TAKEN) throw err;
    throw new ApiError(
      'idempotency_key_in_use',
      'A request with this Idempotency-Key was stored while this one ran, and its answer ' +
        'has just expired; retry after Retry-After seconds.',
      undefined,
      { 'Retry-After': '1' },
    );
  }
}

const single = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : h);

function toAnswer(result: unknown, write: HttpWrite): WriteAnswer {
  const [status, body, etagged] =
    result instanceof Answer
      ? [result.status, result.body, result.etagged ?? write.etagged]
      : [write.status, result, write.etagged];
  const headers: Record<string, string> = {};
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (etagged && text !== undefined) headers.ETag = etagOfText(text);
  return { status, headers, value: body, text };
}

function replay(earlier: StoredAnswer, fingerprint: string): WriteAnswer {
  if (earlier.fingerprint !== fingerprint) {
    throw new ApiError(
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different request (another method, path ' +
        'or body); use a new key for a new request.',
    );
  }
  return { status: earlier.status, headers: earlier.headers, replayed: { text: earlier.body } };
}
