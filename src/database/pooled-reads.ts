import type { EventEmitter } from 'node:events';
import { type DataSource, QueryFailedError, TypeORMError } from 'typeorm';

/** A pooled connection as both drivers lend it (pg's Client, PGlite's session). */
interface PooledClient extends EventEmitter {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/** The pool of TypeORM's postgres driver: pg-pool's, or PGlite's (see pglite-driver.ts). */
interface Pool {
  connect(
    callback: (err: Error | null, client: PooledClient, release: (err?: Error) => void) => void,
  ): unknown;
}

/** What sends a statement and answers its rows, as DataSource.query does. */
export type Reads = Pick<DataSource, 'query'>;

/**
 * Reads sent straight to a connection of the data source's pool, as DataSource.query sends
 * them but without a QueryRunner: for every statement that one registers itself with the
 * driver, broadcasts before and after the query to subscribers Assay has none of, and logs
 * through a logger that logs nothing. On the server the connection is still Assay's
 * CallbackClient (statements named, the database's return noted), and a failure is the same
 * QueryFailedError, so that it answers the same 503 or 4xx. Only for statements outside a
 * transaction.
 */
export function pooledReads(db: DataSource): Reads {
  return {
    query: <T>(text: string, values: unknown[] = []) =>
      new Promise<T>((resolve, reject) => {
        const pool = (db.driver as unknown as { master?: Pool }).master;
        // As TypeORM answers once the data source is closed.
        if (!pool) return reject(new TypeORMError('Driver not Connected'));
        pool.connect((err, client, release) => {
          if (err) return reject(err);
          let released = false;
          // A connection that fails while lent out is not lent again (as TypeORM does).
          const done = (failure?: Error) => {
            if (released) return;
            released = true;
            client.removeListener('error', done);
            release(failure);
          };
          client.once('error', done);
          client.query(text, values).then(
            (result) => {
              done();
              resolve(result.rows as T);
            },
            (failure: Error) => {
              done();
              reject(new QueryFailedError(text, values, failure));
            },
          );
        });
      }),
  };
}
