import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { Response } from 'supertest';
import type { QueryRunner } from 'typeorm';
import { LOCK_SHARE, POOL_SIZE } from '../src/database/data-source-options.js';
import { bearer, DATABASES, startApp, type TestApp } from './support/app.js';
import { createLabel, createRun } from './support/factories.js';

const TIMEOUT_MS = 1000;
// Room for the request's own work and a busy machine, well short of an unbounded wait.
const MARGIN_MS = 1500;

const errorBody = (code: string) => ({
  error: expect.any(String),
  code,
  request_id: expect.any(String),
});

describe.each(DATABASES)('bounded database waits (DB_STATEMENT_TIMEOUT), on $name', (db) => {
  let t: TestApp;
  let label: { id: string };
  let run: { id: string };
  beforeAll(async () => {
    t = await startApp(db, { DB_STATEMENT_TIMEOUT: String(TIMEOUT_MS) });
    label = await createLabel(t.http);
    run = await createRun(t.http);
  });
  afterAll(() => t.close());

  const post = () =>
    t.http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(bearer())
      .send({ evaluation_label_id: label.id, value: 1 });

  async function timed(send: () => Promise<Response>) {
    const started = Date.now();
    const res = await send();
    return { res, ms: Date.now() - started };
  }

  /** How many evaluations and change records exist, to compare before and after. */
  async function written(): Promise<number[]> {
    const counts = await t.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM run_evaluations
       UNION ALL SELECT count(*)::int FROM evaluation_changes`,
    );
    return counts.map((c) => c.n);
  }

  /** Takes every connection the app's pool has, as that many slow requests would. */
  async function holdPool(size: number): Promise<QueryRunner[]> {
    const runners = Array.from({ length: size }, () => t.dataSource.createQueryRunner());
    for (const r of runners) await r.connect();
    return runners;
  }

  it('a full pool answers 503 database_busy with Retry-After within the timeout, writing nothing', async () => {
    const size = db.env.DATABASE_URL ? POOL_SIZE : 1;
    const before = await written();
    const held = await holdPool(size);
    try {
      const { res, ms } = await timed(post);
      expect(res.status).toBe(503);
      expect(res.body).toEqual(errorBody('database_busy'));
      expect(res.body.error).toContain(
        size === 1 ? 'The one database connection is busy' : `All ${size} database connections`,
      );
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    } finally {
      for (const r of held) await r.release();
    }
    expect(await written()).toEqual(before);
    expect((await post()).status).toBe(201);
  });

  (db.env.DATABASE_URL ? it : it.skip)(
    'a lock held elsewhere past the timeout answers 503 database_timeout with Retry-After, writing nothing',
    async () => {
      const before = await written();
      const other = new pg.Client({ connectionString: db.env.DATABASE_URL });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query('SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [run.id]);
        const { res, ms } = await timed(post);
        expect(res.status).toBe(503);
        expect(res.body).toEqual(errorBody('database_timeout'));
        expect(res.body.error).toContain('took too long');
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS * LOCK_SHARE - 50);
        expect(ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);

        // A read that runs longer than the timeout is cut short the same way.
        const slow = await t.dataSource.query('SELECT pg_sleep(5)').then(
          () => 'finished',
          (err: { driverError?: { code?: string } }) => err.driverError?.code,
        );
        expect(slow).toBe('57014');
      } finally {
        await other.query('ROLLBACK');
        await other.end();
      }
      expect(await written()).toEqual(before);
      expect((await post()).status).toBe(201);
    },
  );
});
