import { DataSource, type DataSourceOptions } from 'typeorm';

/** Any fixed number: the advisory lock that instances starting together take in turns. */
const MIGRATIONS_LOCK = 7_412_000_001;

/**
 * Opens the data source and runs the pending migrations. On a PostgreSQL server it holds a
 * session-level advisory lock meanwhile, so that instances starting at once on one database
 * migrate in turns: the first applies them, the others find nothing left to do. (TypeORM's
 * own `migrationsRun` takes no lock, and two instances both creating the schema collide.)
 * The embedded database has one connection and one process: there, no lock.
 */
export async function openMigrated(options: DataSourceOptions): Promise<DataSource> {
  const ds = await new DataSource(options).initialize();
  if (!('url' in options && options.url)) {
    await ds.runMigrations();
    return ds;
  }
  try {
    const runner = ds.createQueryRunner();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK]);
      try {
        await ds.runMigrations();
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK]);
      }
    } finally {
      await runner.release();
    }
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  return ds;
}
