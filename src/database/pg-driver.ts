import pg from 'pg';
import { POOL_WAIT_TIMEOUT } from '../common/database-trouble.js';
import { databaseStateLog } from './database-state-log.js';

type Callback = (err: Error | null, result?: pg.QueryResult) => void;

// pg's own query, called below with the client as `this`.
// eslint-disable-next-line @typescript-eslint/unbound-method
const query = pg.Client.prototype.query;

/**
 * pg's Client, except that a query made without a callback (as TypeORM makes every query)
 * is handed to pg with one, and its promise is made here, its text named (see
 * StatementNames) when it has parameters. In pg's own promise form the
 * Query gets its callback after it is built, and the benchmark measured every row of
 * every result then surviving into V8's old generation: on the list of 100 evaluations,
 * four times the GC pause time, where the callback form (which pg-pool's own pool.query
 * uses) served 60% more requests per second.
 */
export class CallbackClient extends pg.Client {}

/**
 * Names for the texts of parameterized statements, so that the server parses each text
 * once per connection rather than on every call, and may keep its plan (see
 * data-source-options.ts): for the write pipeline's one long statement, parsing and
 * planning took longer than running it. Texts that embed
 * counts vary, so only the first `limit` texts a process meets are named, which bounds
 * what every connection keeps prepared; later ones run unnamed, as before.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();

  constructor(private readonly limit: number) {}

  of(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < this.limit) {
      name = `assay_${this.names.size}`;
      this.names.set(text, name);
    }
    return name;
  }
}

/** How many distinct statement texts a process names (prepares) on each connection. */
export const NAMED_STATEMENTS = 500;

const statementNames = new StatementNames(NAMED_STATEMENTS);

CallbackClient.prototype.query = function (
  this: pg.Client,
  config: unknown,
  values?: unknown,
  callback?: unknown,
) {
  const submittable = typeof (config as { submit?: unknown } | null)?.submit === 'function';
  if (submittable || typeof values === 'function' || typeof callback === 'function') {
    return Reflect.apply(query, this, [config, values, callback]) as unknown;
  }
  const name =
    typeof config === 'string' && Array.isArray(values) && values.length > 0
      ? statementNames.of(config)
      : undefined;
  return new Promise((resolve, reject) => {
    const done: Callback = (err, result) => {
      if (err) return reject(err);
      databaseStateLog.answered();
      resolve(result);
    };
    if (name === undefined) {
      Reflect.apply(query, this, [config, values, done]);
      return;
    }
    // A Query made from the text, then named: pg copies a config object's every property
    // descriptor (cloneQueryConfig), 2–5 µs per statement in a profile of GET one.
    const named = new pg.Query(config as string, values as unknown[], done as never);
    (named as pg.Query & { name: string }).name = name;
    Reflect.apply(query, this, [named]);
  }).catch((err: Error) => {
    // As pg does: a stack that leads back to the caller, not to the socket read.
    Error.captureStackTrace(err);
    throw err;
  });
} as pg.Client['query'];

type ConnectCallback = Parameters<pg.Pool['connect']>[0] & {};

class CallbackPool extends pg.Pool {
  constructor(config?: pg.PoolConfig) {
    super({ ...config, Client: CallbackClient });
  }

  /** A wait for a free connection that timed out says how many connections were busy. */
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const tag = <E extends Error | undefined>(err: E): E =>
      err?.message.includes(POOL_WAIT_TIMEOUT)
        ? Object.assign(err, { connections: this.options.max })
        : err;
    if (!callback) {
      return super.connect().catch((err: Error) => {
        throw tag(err);
      });
    }
    return super.connect((err, client, done) => callback(tag(err), client, done));
  }
}

/** The pg module as TypeORM's `driver` option takes it, with the pool using CallbackClient. */
export const pgDriver = { ...pg, Pool: CallbackPool, Client: CallbackClient };
