import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite, types } from '@electric-sql/pglite';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { PGliteDriver } from 'typeorm-pglite';
import { POOL_WAIT_TIMEOUT } from '../common/database-trouble.js';
import { pgInstant } from './instants.js';

type Release = (err?: unknown) => void;

const { TIMESTAMPTZ } = types;
const serialize: (value: unknown) => string = types.serializers[TIMESTAMPTZ];
const parse = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;

/**
 * PGlite's serializer and parser of Assay's instants (timestamptz), replaced by ones that
 * hold every instant PostgreSQL can: PGlite writes a Date with toISOString and reads one
 * with `new Date()`, which knows no "BC". pg's parser reads them as on a PostgreSQL server.
 */
const PGLITE_INSTANTS = {
  serializers: {
    [TIMESTAMPTZ]: (value: unknown) =>
      value instanceof Date ? pgInstant(value) : serialize(value),
  },
  parsers: { [TIMESTAMPTZ]: parse },
};

/**
 * PostgreSQL's own default of 128 MB of shared buffers is most of what an embedded database
 * costs in memory, and it lives inside the process. 16 MB keeps a development database's hot
 * pages; the files below it stay in the operating system's page cache all the same.
 */
export const EMBEDDED_SHARED_BUFFERS_MB = 16;
const START_PARAMS = [
  ...PGlite.defaultStartParams,
  '-c',
  `shared_buffers=${EMBEDDED_SHARED_BUFFERS_MB}MB`,
];

/** Makes a new embedded database in `dataDir` (initdb), then closes it. */
export async function createEmbeddedDatabase(dataDir: string): Promise<void> {
  await (await PGlite.create({ dataDir, startParams: START_PARAMS })).close();
}

/**
 * The same in a child process, unless `dataDir` holds a database already, so that the memory
 * initdb takes (several hundred megabytes, held until collected) is never the server's.
 */
export async function createEmbeddedDatabaseApart(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  new Logger('Database').log(`Creating a new embedded database in ${dataDir} (a first start).`);
  const script = fileURLToPath(new URL('./create-embedded-database.js', import.meta.url));
  await promisify(execFile)(process.execPath, [script, dataDir]);
}

/**
 * The driver TypeORM's postgres dialect gets for an embedded PGlite database.
 *
 * PGlite is one session. typeorm-pglite hands that same session to every caller, so two
 * concurrent transactions would interleave their BEGIN/COMMIT on it. This pool lends the
 * session to one caller at a time: a pool of exactly one connection, as PostgreSQL's own
 * semantics require.
 *
 * A caller that waits longer than `waitMs` for its turn gives up with the error pg-pool
 * gives for a full pool. PGlite runs each statement to its end inside this process (no
 * other session can hold a lock, and no timer can interrupt a statement), so this wait is
 * the one that can be bounded.
 */
export function pgliteDriver(dataDir: string | undefined, waitMs = 5000): object {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const SharedSessionPool = new PGliteDriver({
    ...PGLITE_INSTANTS,
    ...(dataDir ? { dataDir } : {}),
    startParams: START_PARAMS,
  }).driver.Pool;

  type ConnectCallback = Parameters<InstanceType<typeof SharedSessionPool>['connect']>[0];

  class SerialPool extends SharedSessionPool {
    private tail: Promise<void> = Promise.resolve();

    override connect(callback: ConnectCallback): Promise<void> {
      let release!: () => void;
      const turn = new Promise<void>((resolve) => (release = resolve));
      const ready = this.tail;
      this.tail = ready.then(() => turn);
      let gaveUp = false;
      const timer = setTimeout(() => {
        gaveUp = true;
        callback(
          Object.assign(new Error(POOL_WAIT_TIMEOUT), { connections: 1 }),
          undefined!,
          () => {},
        );
      }, waitMs);
      return ready.then(() => {
        clearTimeout(timer);
        // The turn came after its caller left: pass it straight on.
        if (gaveUp) return release();
        return super.connect((err, client) => {
          let released = false;
          const done: Release = () => {
            if (!released) {
              released = true;
              release();
            }
          };
          if (err) done();
          callback(err, client, done);
        });
      });
    }
  }

  return { Pool: SerialPool };
}
