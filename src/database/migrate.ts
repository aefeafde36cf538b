import { Logger } from '@nestjs/common';
import { DataSource, type DataSourceOptions, type Migration } from 'typeorm';

/** Any fixed number: the advisory lock that instances starting together take in turns. */
const MIGRATIONS_LOCK = 7_412_000_001;

/**
 * Opens the data source and runs the pending migrations. On a PostgreSQL server it holds a
 * session-level advisory lock meanwhile, so that instances starting at once on one database
 * migrate in turns: the first applies them, the others find nothing left to do. (TypeORM's
 * own `migrationsRun` takes no lock, and two instances both creating the schema collide.)
 * The embedded database has one connection and one process: there, no lock.
 */
export async function openMigrated(options: DataSourceOptions, where: string): Promise<DataSource> {
  const logger = new Logger('Database');
  const started = Date.now();
  logger.log(`Opening ${where}.`);
  const ds = await new DataSource(options).initialize();
  const migrate = async () => {
    const applied: Migration[] = await ds.runMigrations();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    logger.log(
      applied.length
        ? `Applied ${applied.length} migrations; the database is ready (${seconds} s).`
        : `No migration to apply; the database is ready (${seconds} s).`,
    );
  };
  if (!('url' in options && options.url)) {
    await migrate();
    return ds;
  }
  try {
    const runner = ds.createQueryRunner();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK]);
      try {
        await migrate();
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
