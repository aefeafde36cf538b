import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type QueryRunner } from 'typeorm';
import {
  ASSAY_OPTIONS,
  type AssayModuleOptions,
  DEFAULT_IDEMPOTENCY_TTL,
} from '../assay-options.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { isDatabaseUnavailable } from '../common/error-response.js';
import { sqlState } from '../common/pg-errors.js';
import { outboxInsert } from '../events/outbox.js';
import { Answer, type WriteAnswer } from './answer.js';
import { etagOf, parseEntityTags } from './etag.js';
import {
  claimKey,
  fingerprintOf,
  parseIdempotencyKey,
  purgeExpiredKeys,
  type StoredAnswer,
  storeAnswerSql,
} from './idempotency.js';
import type { WriteCheck } from './write-check.js';
import { currentWrite, WriteScope } from './write-scope.js';

/** An HTTP request that writes, as the pipeline needs to know it. */
export interface HttpWrite {
  principal: Principal;
  method: string;
  route: string;
  params: unknown;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** The route's status when it answers as usual (201 for POST, say). */
  status: number;
  /** Whether the answer is one resource, to be sent with its ETag. */
  etagged: boolean;
}

const LOCK_NOT_AVAILABLE = '55P03';
const PURGE_EVERY_MS = 60_000;

/**
 * The one way Assay writes. For each write it opens the transaction, runs the features'
 * checks (a registered evaluator, say), claims the Idempotency-Key, runs the change, and in
 * one last statement writes the change events to the outbox and stores the answer under
 * the key; then it commits. Nothing of a failed write stays, and a key never exists
 * without its effect, nor the reverse. It knows no feature: features hand it a change.
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

  /** A check every write must pass, run first inside its transaction. */
  addCheck(check: WriteCheck): void {
    this.checks.push(check);
  }

  /**
   * Runs a change inside the write of the current request, or, called from elsewhere (a
   * host app's own code), in a write of its own.
   */
  async run<T>(principal: Principal, change: (scope: WriteScope) => Promise<T>): Promise<T> {
    const ambient = currentWrite.getStore();
    if (ambient) return change(ambient);
    let result!: T;
    await this.transaction(principal, undefined, async (scope) => {
      result = await change(scope);
      return undefined;
    });
    return result;
  }

  /** Serves one HTTP write: `handler` runs the route (validation and all) inside it. */
  async request(write: HttpWrite, handler: () => Promise<unknown>): Promise<WriteAnswer> {
    const key = parseIdempotencyKey(write.headers['idempotency-key']);
    const ifMatch = parseEntityTags(single(write.headers['if-match']));
    const fingerprint = key === undefined ? '' : fingerprintOf(write);
    let answer!: WriteAnswer;
    await this.transaction(write.principal, ifMatch, async (scope) => {
      if (key !== undefined) {
        const earlier = await this.claim(scope, key, fingerprint);
        if (earlier) {
          answer = replay(earlier, fingerprint);
          return undefined;
        }
      }
      answer = toAnswer(await handler(), write);
      if (scope.preconditionIgnored) {
        throw new Error(`${write.method} ${write.route} took If-Match but never checked it`);
      }
      return key === undefined ? undefined : { key, answer };
    });
    return answer;
  }

  private async transaction(
    principal: Principal,
    ifMatch: string[] | undefined,
    body: (scope: WriteScope) => Promise<{ key: string; answer: WriteAnswer } | undefined>,
  ): Promise<void> {
    const runner = this.db.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      const scope = new WriteScope(runner.manager, principal, ifMatch);
      const stored = await currentWrite.run(scope, async () => {
        for (const check of this.checks) await check.check(scope);
        return body(scope);
      });
      await this.finish(runner, scope, stored);
      await commit(runner);
      scope.committed();
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  /**
   * The write's last statement: the change's own last step, if it handed one over, then its
   * events into the outbox and its answer under its key.
   */
  private async finish(
    runner: QueryRunner,
    scope: WriteScope,
    stored: { key: string; answer: WriteAnswer } | undefined,
  ): Promise<void> {
    const statement = scope.takeLast();
    if (this.recordsEvents && scope.events.length > 0) {
      statement.numbered('outbox_write', outboxInsert(scope.events, statement.params.length + 1));
    }
    if (stored) {
      const { status, headers, value } = stored.answer;
      const first = statement.params.length + 1;
      statement.numbered('key_answer', {
        sql: storeAnswerSql(first),
        params: [
          scope.principal.accountId,
          stored.key,
          status,
          JSON.stringify(headers),
          value === undefined ? null : JSON.stringify(value),
        ],
      });
    }
    if (!statement.empty) await runner.query(statement.sql, statement.params);
  }

  private async claim(
    scope: WriteScope,
    key: string,
    fingerprint: string,
  ): Promise<StoredAnswer | undefined> {
    try {
      return await claimKey(scope.tx, scope.principal.accountId, key, fingerprint, this.ttl);
    } catch (err) {
      if (sqlState(err) !== LOCK_NOT_AVAILABLE) throw err;
      throw new ApiError(
        'idempotency_key_in_use',
        'A request with this Idempotency-Key is still being processed; retry after Retry-After ' +
          'seconds to get its answer.',
        undefined,
        { 'Retry-After': '1' },
      );
    }
  }
}

const single = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : h);

function toAnswer(result: unknown, write: HttpWrite): WriteAnswer {
  const [status, body] =
    result instanceof Answer ? [result.status, result.body] : [write.status, result];
  const headers: Record<string, string> = {};
  if (write.etagged && body !== undefined) headers.ETag = etagOf(body);
  return { status, headers, value: body };
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

/**
 * Commits. When the connection dies during COMMIT, nobody can say whether the write was
 * stored: the answer says so, and a retry with the same Idempotency-Key is safe.
 */
async function commit(runner: QueryRunner): Promise<void> {
  try {
    await runner.commitTransaction();
  } catch (err) {
    if (!isDatabaseUnavailable(err) && !isDatabaseUnavailable(driverError(err))) throw err;
    throw new ApiError(
      'outcome_unknown',
      'The connection to the database broke while committing, so this write may or may not ' +
        'have been stored; retry with the same Idempotency-Key, or read before writing again.',
      undefined,
      { 'Retry-After': '1' },
      err,
    );
  }
}

const driverError = (err: unknown) => (err as { driverError?: unknown } | null)?.driverError;
