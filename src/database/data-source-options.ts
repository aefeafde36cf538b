import { join } from 'node:path';
import type { DataSourceOptions, MigrationInterface, QueryRunner } from 'typeorm';
import type { Settings } from '../config/settings.js';
import { EvaluationLabelVersionEntity } from '../evaluation-labels/evaluation-label-version.entity.js';
import { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import { EvaluationChangeEntity } from '../evaluations/evaluation-change.entity.js';
import { EvaluationEntity } from '../evaluations/evaluation.entity.js';
import { EvaluatorEntity } from '../evaluators/evaluator.entity.js';
import { OutboxWriteEntity } from '../events/outbox-write.entity.js';
import { IdempotencyKeyEntity } from '../writes/idempotency-key.entity.js';
import { ReviewQueueItemEntity } from '../review-queues/review-queue-item.entity.js';
import { ReviewQueueEntity } from '../review-queues/review-queue.entity.js';
import { ReviewReservationEntity } from '../review-queues/review-reservation.entity.js';
import { ReviewEntity } from '../review-queues/review.entity.js';
import { RunEntity } from '../runs/run.entity.js';
import {
  WebhookAttemptEntity,
  WebhookDeliveryEntity,
  WebhookEntity,
} from '../webhooks/webhook.entity.js';
import { MIGRATIONS } from './migrations/index.js';
import { pgDriver } from './pg-driver.js';
import { pgliteDriver } from './pglite-driver.js';

export const ENTITIES = [
  RunEntity,
  EvaluationLabelEntity,
  EvaluationLabelVersionEntity,
  EvaluationEntity,
  EvaluationChangeEntity,
  EvaluatorEntity,
  IdempotencyKeyEntity,
  OutboxWriteEntity,
  ReviewQueueEntity,
  ReviewQueueItemEntity,
  ReviewReservationEntity,
  ReviewEntity,
  WebhookEntity,
  WebhookDeliveryEntity,
  WebhookAttemptEntity,
];

/** Connection pool size on a PostgreSQL server, unless DB_POOL_SIZE says otherwise. */
export const POOL_SIZE = 32;

const DEFAULT_STATEMENT_TIMEOUT = 5000;
/** The share of DB_STATEMENT_TIMEOUT a lock wait may take. */
export const LOCK_SHARE = 0.9;

/**
 * How long an idle pooled connection is kept (pg's default is 10 s). A lull of a few seconds
 * should not make the next burst pay for setting up every connection again, nor make the
 * server tear down and fork a backend per connection meanwhile: the benchmark saw a pool
 * closing after 10 s idle slow the other traffic on the server for seconds.
 */
export const POOL_IDLE_MS = 60_000;

type MigrationClass = new () => MigrationInterface;

/**
 * A migration as the app runs it on a server: free of the statement and lock timeouts that
 * bound requests, since building an index on a large table may rightly take minutes. The
 * migrations run one transaction each, so SET LOCAL ends with the migration.
 */
function withoutTimeouts(Migration: MigrationClass): MigrationClass {
  const lift = (runner: QueryRunner) =>
    runner.query('SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0');
  return class extends Migration {
    override async up(runner: QueryRunner): Promise<void> {
      await lift(runner);
      await super.up(runner);
    }
    override async down(runner: QueryRunner): Promise<void> {
      await lift(runner);
      await super.down(runner);
    }
  };
}

/** "memory://" as DATA_DIR keeps the embedded database in memory (tests). */
export const IN_MEMORY = 'memory://';

/** The folder of the embedded database the settings name, if they name one on disk. */
export function embeddedDataDir(
  settings: Pick<Settings, 'DATABASE_URL' | 'DATA_DIR'>,
): string | undefined {
  if (settings.DATABASE_URL || settings.DATA_DIR === IN_MEMORY) return undefined;
  return join(settings.DATA_DIR, 'pglite');
}

/** Which database the settings name, for a person reading the log: never the credentials. */
export function describeDatabase(settings: Pick<Settings, 'DATABASE_URL' | 'DATA_DIR'>): string {
  if (settings.DATABASE_URL) {
    const url = new URL(settings.DATABASE_URL);
    return `the PostgreSQL server at ${url.hostname}:${url.port || 5432}${url.pathname}`;
  }
  const dataDir = embeddedDataDir(settings);
  return dataDir ? `the embedded database in ${dataDir}` : 'the embedded database, in memory';
}

/**
 * The one description of Assay's database, used by the app, by ormconfig.ts and by the
 * tests: the PostgreSQL server at DATABASE_URL, else embedded PGlite under DATA_DIR.
 */
export function dataSourceOptions(
  settings: Pick<Settings, 'DATABASE_URL' | 'DATA_DIR'> &
    Partial<Pick<Settings, 'DB_STATEMENT_TIMEOUT' | 'DB_POOL_SIZE'>>,
): DataSourceOptions {
  const timeout = settings.DB_STATEMENT_TIMEOUT ?? DEFAULT_STATEMENT_TIMEOUT;
  const common = {
    type: 'postgres',
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    // A client-supplied name tells a server's admin whose connections these are.
    applicationName: 'assay',
  } as const;
  if (settings.DATABASE_URL) {
    return {
      ...common,
      migrations: MIGRATIONS.map(withoutTimeouts),
      url: settings.DATABASE_URL,
      driver: pgDriver,
      poolSize: settings.DB_POOL_SIZE ?? POOL_SIZE,
      // Both the wait for a free pooled connection and the making of a new one.
      connectTimeoutMS: timeout,
      extra: {
        idleTimeoutMillis: POOL_IDLE_MS,
        // Set by the server on every session: a statement, or a wait for a row or table lock,
        // that runs longer is cancelled (SQLSTATE 57014 / 55P03) and its transaction undone.
        // The lock wait ends a little sooner, so that it is reported as what it was (a
        // concurrent request with the same Idempotency-Key, say) rather than as a slow statement.
        statement_timeout: timeout,
        lock_timeout: Math.round(timeout * LOCK_SHARE),
        // Statements are named (see pg-driver.ts), so each is parsed once per connection,
        // and PostgreSQL keeps a plan made for any parameters once it costs no more than
        // those made for each call's (its default). Planning each call cost more than running
        // the statement, on the writes and the reads by key alike (docs/performance.md).
        // Statistics, whose plans turn on their parameters, are planned per call (stats.service.ts).
        options: '-c plan_cache_mode=auto',
      },
    };
  }
  return { ...common, driver: pgliteDriver(embeddedDataDir(settings), timeout) };
}
