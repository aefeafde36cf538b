import 'reflect-metadata';
import { afterAll, describe } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyBaseLogger } from 'fastify';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory.js';
import { AppModule } from '../../src/app.module.js';
import { sqlState } from '../../src/common/pg-errors.js';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import { dataSourceOptions, IN_MEMORY } from '../../src/database/data-source-options.js';
import type { WebhookOptions } from '../../src/webhooks/webhook-options.js';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!';

export interface TestDatabase {
  name: string;
  env: Record<string, string>;
}

/**
 * The embedded database, and the PostgreSQL server too when TEST_DATABASE_URL is set.
 * TEST_EMBEDDED=false leaves the embedded one out, for a run that adds the server to one
 * that already covered it (CI).
 */
export const DATABASES: TestDatabase[] = [
  ...(process.env.TEST_EMBEDDED === 'false'
    ? []
    : [{ name: 'PGlite', env: { DATA_DIR: IN_MEMORY } }]),
  ...(process.env.TEST_DATABASE_URL
    ? [{ name: 'PostgreSQL', env: { DATABASE_URL: process.env.TEST_DATABASE_URL } }]
    : []),
];
if (!DATABASES.length)
  throw new Error('TEST_EMBEDDED=false needs TEST_DATABASE_URL: no database is left to test.');

/** The PostgreSQL server alone: what only a server can do (be cut off, be shared). */
export const SERVERS = DATABASES.filter((db) => db.env.DATABASE_URL);

/**
 * A suite for each PostgreSQL server, or one skipped suite that says why when
 * TEST_DATABASE_URL is unset (`describe.each([])` would fail the whole file instead).
 */
export function describeOnServers(
  title: string,
  suite: (db: TestDatabase) => void,
  base: typeof describe.skip = describe,
): void {
  if (SERVERS.length) base.each(SERVERS)(title, suite);
  else
    describe.skip.each([{ name: 'PostgreSQL (TEST_DATABASE_URL unset)', env: {} }])(title, suite);
}

export function testSettings(db: TestDatabase, env: Record<string, string> = {}): Settings {
  return loadSettings({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: TEST_SECRET,
    ...db.env,
    ...env,
  });
}

const DEADLOCK_DETECTED = '40P01';

/**
 * Empties a server database so that each spec starts from migrations on a blank schema. An
 * app the spec still has open on it may be running its background rounds meanwhile, whose
 * locks can deadlock with the drop: PostgreSQL then cancels one side, and the drop is tried
 * again.
 */
async function resetServerDatabase(settings: Settings): Promise<void> {
  if (!settings.DATABASE_URL) return;
  const ds = await new DataSource(dataSourceOptions(settings)).initialize();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await ds.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
        return;
      } catch (err) {
        if (sqlState(err) !== DEADLOCK_DETECTED || attempt === 5) throw err;
      }
    }
  } finally {
    await ds.destroy();
  }
}

export interface TestApp {
  app: NestFastifyApplication;
  http: ReturnType<typeof request>;
  dataSource: DataSource;
  close(): Promise<void>;
}

/** The apps of this spec file that are starting or open, and not yet closed by the spec. */
const open = new Set<Promise<NestFastifyApplication>>();

// Registered in every spec file that starts apps: after all its own hooks, it closes what
// they left open, including an app whose start outlived a timed-out hook, so that no app
// (its timers, its database) keeps Jest from exiting.
afterAll(async () => {
  for (const starting of open) {
    open.delete(starting);
    await (await starting.catch(() => undefined))?.close();
  }
});

/**
 * Starts the app on a blank database. `webhooks` replaces webhook options that settings
 * cannot carry (a host name resolver); `logger` receives the app's log lines.
 */
export async function startApp(
  db: TestDatabase,
  env: Record<string, string> = {},
  webhooks: WebhookOptions = {},
  logger?: FastifyBaseLogger,
): Promise<TestApp> {
  const settings = testSettings(db, env);
  const starting = resetServerDatabase(settings).then(() =>
    createApp(settings, AppModule.forRoot(settings, webhooks), logger),
  );
  open.add(starting);
  const app = await starting;
  return {
    app,
    http: request(app.getHttpServer()),
    dataSource: app.get(DataSource),
    close: () => {
      open.delete(starting);
      return app.close();
    },
  };
}

export interface TokenClaims {
  account?: string | null;
  sub?: string | null;
  evaluator?: string;
  expiresIn?: jwt.SignOptions['expiresIn'] | null;
  secret?: string;
  algorithm?: jwt.Algorithm;
  extra?: Record<string, unknown>;
}

/** A bearer token as Assay expects one; pass null to leave a claim out. */
export function token(claims: TokenClaims = {}): string {
  const payload: Record<string, unknown> = { ...claims.extra };
  const account = claims.account === undefined ? 'acme' : claims.account;
  const sub = claims.sub === undefined ? 'alice' : claims.sub;
  if (account !== null) payload.account_id = account;
  if (sub !== null) payload.sub = sub;
  if (claims.evaluator) payload.evaluator_id = claims.evaluator;
  const expiresIn = claims.expiresIn === undefined ? '1h' : claims.expiresIn;
  return jwt.sign(payload, claims.secret ?? TEST_SECRET, {
    algorithm: claims.algorithm ?? 'HS256',
    ...(expiresIn === null ? {} : { expiresIn }),
  });
}

export const bearer = (t: string = token()) => ({ Authorization: `Bearer ${t}` });
