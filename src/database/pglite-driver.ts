import { mkdirSync } from 'node:fs';
import { PGliteDriver } from 'typeorm-pglite';

type Release = (err?: unknown) => void;

/**
 * The driver TypeORM's postgres dialect gets for an embedded PGlite database.
 *
 * PGlite is one session. typeorm-pglite hands that same session to every caller, so two
 * concurrent transactions would interleave their BEGIN/COMMIT on it. This pool lends the
 * session to one caller at a time: a pool of exactly one connection, as PostgreSQL's own
 * semantics require.
 */
export function pgliteDriver(dataDir: string | undefined): object {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const SharedSessionPool = new PGliteDriver(dataDir ? { dataDir } : {}).driver.Pool;

  type ConnectCallback = Parameters<InstanceType<typeof SharedSessionPool>['connect']>[0];

  class SerialPool extends SharedSessionPool {
    private tail: Promise<void> = Promise.resolve();

    override connect(callback: ConnectCallback): Promise<void> {
      let release!: () => void;
      const turn = new Promise<void>((resolve) => (release = resolve));
      const ready = this.tail;
      this.tail = ready.then(() => turn);
      return ready.then(() =>
        super.connect((err, client) => {
          let released = false;
          const done: Release = () => {
            if (!released) {
              released = true;
              release();
            }
          };
          if (err) done();
          callback(err, client, done);
        }),
      );
    }
  }

  return { Pool: SerialPool };
}
