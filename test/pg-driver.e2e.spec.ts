import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { CallbackClient, pgDriver } from '../src/database/pg-driver.js';
import { bearer, describeOnServers, startApp, type TestApp } from './support/app.js';
import { scoredRun } from './support/factories.js';

const url = process.env.TEST_DATABASE_URL;

// The pg driver Assay hands TypeORM: results, errors and the other call forms must be pg's.
(url ? describe : describe.skip)('the pg driver, on the PostgreSQL server', () => {
  const pool = new pgDriver.Pool({ connectionString: url, max: 2 });
  afterAll(() => pool.end());

  it('answers a query made without a callback with its result', async () => {
    const client = await pool.connect();
    try {
      const result = await client.query<{ n: number }>('SELECT $1::int + 1 AS n', [41]);
      expect(result.rows).toEqual([{ n: 42 }]);
    } finally {
      client.release();
    }
  });

  it('rejects with pg’s error, its stack leading back to the caller', async () => {
    const client = await pool.connect();
    try {
      const failed = await client.query('SELECT * FROM no_such_table').catch((e: unknown) => e);
      expect(failed).toMatchObject({
        code: '42P01',
        message: expect.stringContaining('no_such_table'),
      });
      expect((failed as Error).stack).toContain('pg-driver.e2e.spec');
    } finally {
      client.release();
    }
  });

  it('has the server parse a parameterized text once per connection, under one name', async () => {
    const client = await pool.connect();
    try {
      const text = 'SELECT $1::int * 2 AS twice';
      expect((await client.query(text, [4])).rows).toEqual([{ twice: 8 }]);
      expect((await client.query(text, [5])).rows).toEqual([{ twice: 10 }]);
      const prepared = await client.query<{ name: string }>(
        'SELECT name FROM pg_prepared_statements WHERE statement = $1',
        [text],
      );
      expect(prepared.rows).toEqual([{ name: expect.stringMatching(/^assay_\d+$/) }]);
      // A named text that fails leaves the connection and the name usable.
      const bad = 'SELECT 1 / $1::int AS q';
      await expect(client.query(bad, [0])).rejects.toMatchObject({ code: '22012' });
      expect((await client.query(bad, [1])).rows).toEqual([{ q: 1 }]);
    } finally {
      client.release();
    }
  });

  it('leaves the callback form and pool.query as pg has them', async () => {
    const client = await pool.connect();
    try {
      const viaCallback = await new Promise((resolve, reject) =>
        client.query('SELECT 1 AS one', (err, result) =>
          err ? reject(err) : resolve(result.rows),
        ),
      );
      expect(viaCallback).toEqual([{ one: 1 }]);
    } finally {
      client.release();
    }
    expect((await pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
  });

  describe("under TypeORM, with Assay's options", () => {
    let db: DataSource;
    beforeAll(async () => {
      db = await new DataSource(
        dataSourceOptions({ DATABASE_URL: url, DATA_DIR: '' }),
      ).initialize();
    });
    afterAll(() => db.destroy());

    it('pools CallbackClients', async () => {
      const pool = (db.driver as unknown as { master: InstanceType<typeof pgDriver.Pool> }).master;
      const client = await pool.connect();
      client.release();
      expect(client).toBeInstanceOf(CallbackClient);
    });

    it('keeps idle connections for a minute rather than pg’s 10 s', () => {
      const pool = (db.driver as unknown as { master: { options: Record<string, unknown> } })
        .master;
      expect(pool.options).toMatchObject({ max: 32, idleTimeoutMillis: 60_000 });
    });

    it('keeps a named statement’s plan once it costs no more than planning each call', async () => {
      const runner = db.createQueryRunner();
      try {
        const text = 'SELECT relname FROM pg_class WHERE oid = $1';
        for (let i = 0; i < 8; i++) await runner.query(text, [1259]);
        expect(
          await runner.query(
            'SELECT generic_plans > 0 AS kept FROM pg_prepared_statements WHERE statement = $1',
            [text],
          ),
        ).toEqual([{ kept: true }]);
      } finally {
        await runner.release();
      }
    });

    it('serves queries and transactions, and rolls back on failure', async () => {
      expect(await db.query('SELECT 3 AS three')).toEqual([{ three: 3 }]);
      await db.query('CREATE TABLE IF NOT EXISTS pg_driver_check (n int)');
      try {
        await expect(
          db.transaction(async (tx) => {
            await tx.query('INSERT INTO pg_driver_check VALUES (1)');
            await tx.query('SELECT * FROM no_such_table');
          }),
        ).rejects.toMatchObject({ driverError: { code: '42P01' } });
        expect(await db.query('SELECT count(*)::int AS n FROM pg_driver_check')).toEqual([
          { n: 0 },
        ]);
      } finally {
        await db.query('DROP TABLE pg_driver_check');
      }
    });
  });
});

// What the app's statements do with their plans. Statements are prepared per connection, so
// the app has two (its least: one holds the migrations' lock), and both are looked at.
describeOnServers('plans kept and plans made per call, on $name', (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(database, { DB_POOL_SIZE: '2' });
  });
  afterAll(() => t.close());

  /** Each statement text prepared on the app's connections: how often planned which way. */
  async function prepared(): Promise<Map<string, { generic: number; custom: number }>> {
    const runners = [t.dataSource.createQueryRunner(), t.dataSource.createQueryRunner()];
    const plans = new Map<string, { generic: number; custom: number }>();
    try {
      for (const runner of runners) {
        await runner.connect();
        const rows = (await runner.query(
          `SELECT statement AS text, generic_plans::int AS generic, custom_plans::int AS custom
             FROM pg_prepared_statements`,
        )) as { text: string; generic: number; custom: number }[];
        for (const { text, generic, custom } of rows) {
          const sum = plans.get(text) ?? { generic: 0, custom: 0 };
          plans.set(text, { generic: sum.generic + generic, custom: sum.custom + custom });
        }
      }
    } finally {
      for (const runner of runners) await runner.release();
    }
    return plans;
  }

  /** The statements first prepared since `before` and run at least `calls` times. */
  const since = (
    before: Map<string, unknown>,
    after: Awaited<ReturnType<typeof prepared>>,
    calls: number,
  ) => [...after].filter(([text, p]) => !before.has(text) && p.generic + p.custom >= calls);

  it('keeps the plan of a read by key, and plans the statistics per call', async () => {
    const { label, path } = await scoredRun(t.http);
    const before = await prepared();
    for (let i = 0; i < 30; i++) expect((await t.http.get(path).set(bearer())).status).toBe(200);
    // Nothing read an evaluation by key before: the read's statement is new.
    const reads = since(before, await prepared(), 30);
    expect(reads.some(([, p]) => p.generic > 0)).toBe(true);

    const beforeStats = await prepared();
    for (let i = 0; i < 30; i++) {
      const res = await t.http.get(`/v1/evaluation-label/${label.id}/stats`).set(bearer());
      expect(res.status).toBe(200);
    }
    // The aggregates: the label's own read by key may keep its plan.
    const stats = since(beforeStats, await prepared(), 30).filter(([text]) =>
      text.includes('count(*)'),
    );
    expect(stats.length).toBeGreaterThan(0);
    for (const [, p] of stats) expect(p.generic).toBe(0);
  });
});
