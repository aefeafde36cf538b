import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { Settings } from '../config/settings.js';
import { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import { EvaluationChangeEntity } from '../evaluations/evaluation-change.entity.js';
import { EvaluationEntity } from '../evaluations/evaluation.entity.js';
import { EvaluatorEntity } from '../evaluators/evaluator.entity.js';
import { OutboxEventEntity } from '../events/outbox-event.entity.js';
import { IdempotencyKeyEntity } from '../writes/idempotency-key.entity.js';
import { RunEntity } from '../runs/run.entity.js';
import { MIGRATIONS } from './migrations/index.js';
import { pgDriver } from './pg-driver.js';
import { pgliteDriver } from './pglite-driver.js';

export const ENTITIES = [
  RunEntity,
  EvaluationLabelEntity,
  EvaluationEntity,
  EvaluationChangeEntity,
  EvaluatorEntity,
  IdempotencyKeyEntity,
  OutboxEventEntity,
];

/** Connection pool size on a PostgreSQL server. */
const POOL_SIZE = 32;

/**
 * How long an idle pooled connection is kept (pg's default is 10 s). A lull of a few seconds
 * should not make the next burst pay for setting up every connection again, nor make the
 * server tear down and fork a backend per connection meanwhile: the benchmark saw a pool
 * closing after 10 s idle slow the other traffic on the server for seconds.
 */
const POOL_IDLE_MS = 60_000;

/** "memory://" as DATA_DIR keeps the embedded database in memory (tests). */
export const IN_MEMORY = 'memory://';

/**
 * The one description of Assay's database, used by the app, by ormconfig.ts and by the
 * tests: the PostgreSQL server at DATABASE_URL, else embedded PGlite under DATA_DIR.
 */
export function dataSourceOptions(
  settings: Pick<Settings, 'DATABASE_URL' | 'DATA_DIR'>,
): DataSourceOptions {
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
      url: settings.DATABASE_URL,
      driver: pgDriver,
      poolSize: POOL_SIZE,
      connectTimeoutMS: 5000,
      extra: { idleTimeoutMillis: POOL_IDLE_MS },
    };
  }
  const dataDir = settings.DATA_DIR === IN_MEMORY ? undefined : join(settings.DATA_DIR, 'pglite');
  return { ...common, driver: pgliteDriver(dataDir) };
}
