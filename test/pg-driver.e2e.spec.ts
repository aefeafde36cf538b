import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { CallbackClient, pgDriver } from '../src/database/pg-driver.js';

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

    it('plans every named statement for its own parameters', async () => {
      expect(await db.query('SHOW plan_cache_mode')).toEqual([
        { plan_cache_mode: 'force_custom_plan' },
      ]);
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
