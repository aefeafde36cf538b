// The floor: Assay's operations on plain Fastify + pg, with the same JWT check and the same
// value rules as Assay, and no framework, ORM or validation library. Creating evaluations
// (one, or a batch) is one statement: the fewest round trips that keep the rules it checks
// (run, label, archived, value, output name; not field_path, which needs RFC 9535 JSONPath).
// Started by bench.ts as a child process: PORT, DATABASE_URL, JWT_SECRET.
import { createSecretKey, randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply } from 'fastify';
import jwt from 'jsonwebtoken';
import pg from 'pg';

// The same pool as Assay's (src/database/data-source-options.ts): 32 connections, idle ones kept 60 s.
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: 32,
  idleTimeoutMillis: 60_000,
});
const secret = createSecretKey(Buffer.from(process.env.JWT_SECRET!));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Principal {
  accountId: string;
  sub: string;
  evaluatorId: string | null;
}
type Row = Record<string, unknown>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function principal(header: string | undefined): Principal {
  if (!header?.startsWith('Bearer ')) throw new HttpError(401, 'token required');
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(header.slice(7), secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
  } catch {
    throw new HttpError(401, 'token refused');
  }
  const { sub, exp, account_id: accountId, evaluator_id: evaluatorId } = claims;
  if (typeof exp !== 'number' || typeof sub !== 'string' || typeof accountId !== 'string') {
    throw new HttpError(401, 'claims missing');
  }
  if (evaluatorId !== undefined && (typeof evaluatorId !== 'string' || !UUID.test(evaluatorId))) {
    throw new HttpError(401, 'bad evaluator_id');
  }
  return { accountId, sub, evaluatorId: (evaluatorId as string | undefined) ?? null };
}

function uuid(value: string): string {
  if (!UUID.test(value)) throw new HttpError(400, 'bad uuid');
  return value.toLowerCase();
}

function checkValue(label: Row, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new HttpError(400, 'bad value');
  const ok =
    label.value_type === 'binary'
      ? value === 0 || value === 1
      : label.value_type === 'continuous'
        ? value >= (label.min_value as number) && value <= (label.max_value as number)
        : Number.isInteger(value) && value >= 0 && value < (label.categories as string[]).length;
  if (!ok) throw new HttpError(422, 'value does not fit');
  return value;
}

const view = (r: Row) => ({
  id: r.id,
  account_id: r.account_id,
  run_id: r.run_id,
  output_name: r.output_name,
  field_path: r.field_path,
  evaluation_label_id: r.evaluation_label_id,
  value: r.value,
  created_by: r.created_by,
  created_by_evaluator_id: r.created_by_evaluator_id,
  created_at: r.created_at,
  updated_by: r.updated_by,
  updated_at: r.updated_at,
});

async function transaction<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

async function label(c: pg.PoolClient, accountId: string, id: string): Promise<Row> {
  const { rows } = await c.query(
    'SELECT * FROM evaluation_labels WHERE account_id = $1 AND id = $2 FOR SHARE',
    [accountId, id],
  );
  if (!rows[0]) throw new HttpError(404, 'label not found');
  return rows[0] as Row;
}

async function change(c: pg.PoolClient, p: Principal, e: Row, op: string, old: Row) {
  await c.query(
    `INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation, old_value, new_value,
       old_label_version, new_label_version, changed_by, changed_by_evaluator_id, changed_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
    [
      p.accountId,
      e.run_id,
      e.id,
      op,
      old.value,
      e.value,
      old.label_version,
      e.label_version,
      p.evaluatorId ? null : p.sub,
      p.evaluatorId,
      new Date(),
    ],
  );
}

const app = Fastify({ logger: false });

app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply: FastifyReply) => {
  const status = err instanceof HttpError ? err.status : (err.statusCode ?? 500);
  void reply.status(status).send({ error: err.message });
});

/** The WHERE that makes a value fit its label (l) and an output name fit the run (r), in SQL. */
const FITS = `l.archived_at IS NULL
  AND CASE l.value_type
        WHEN 'binary' THEN i.value IN (0, 1)
        WHEN 'continuous' THEN i.value BETWEEN l.min_value AND l.max_value
        ELSE i.value = trunc(i.value) AND i.value >= 0 AND i.value < jsonb_array_length(l.categories)
      END
  AND (i.output_name IS NULL OR r.outputs IS NULL OR r.outputs ? i.output_name)`;

/**
 * Creates evaluations in one statement, so in one round trip: runs and labels locked FOR
 * SHARE, every item checked, and, only when all fit, the evaluations and their change rows
 * inserted. Answers the created rows in order, or how many items did not fit.
 */
async function insertEvaluations(
  p: Principal,
  items: { runId: string; labelId: string; value: number; outputName: string | null }[],
): Promise<{ created: Row[]; missing: number; unfit: number }> {
  const now = new Date();
  const { rows } = await pool.query(
    `WITH i AS (
       SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::float8[], $6::text[])
         WITH ORDINALITY AS t(id, run_id, label_id, value, output_name, n)),
     r AS (SELECT id, outputs FROM runs
            WHERE account_id = $1 AND id IN (SELECT run_id FROM i) FOR SHARE),
     l AS (SELECT * FROM evaluation_labels
            WHERE account_id = $1 AND id IN (SELECT label_id FROM i) FOR SHARE),
     checked AS (
       SELECT i.*, l.version AS label_version, r.id IS NOT NULL AND l.id IS NOT NULL AS found,
              coalesce(r.id IS NOT NULL AND l.id IS NOT NULL AND ${FITS}, false) AS fits
         FROM i LEFT JOIN r ON r.id = i.run_id LEFT JOIN l ON l.id = i.label_id),
     ins AS (
       INSERT INTO run_evaluations (id, account_id, run_id, output_name, field_path,
         evaluation_label_id, value, label_version, created_by, created_by_evaluator_id,
         created_at, updated_by, updated_at)
       SELECT id, $1, run_id, output_name, NULL, label_id, value, label_version, $7, $8, $9, NULL, $9
         FROM checked WHERE (SELECT bool_and(fits) FROM checked)
       RETURNING *),
     ch AS (
       INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation,
         old_value, new_value, old_label_version, new_label_version, changed_by,
         changed_by_evaluator_id, changed_at)
       SELECT $1, run_id, id, 'create', NULL, value, NULL, label_version, $7, $8, $9 FROM ins)
     SELECT (SELECT count(*) FROM checked WHERE NOT found)::int AS missing,
            (SELECT count(*) FROM checked WHERE found AND NOT fits)::int AS unfit,
            (SELECT coalesce(json_agg(ins ORDER BY checked.n), '[]')
               FROM ins JOIN checked USING (id)) AS created`,
    [
      p.accountId,
      items.map(() => randomUUID()),
      items.map((i) => i.runId),
      items.map((i) => i.labelId),
      items.map((i) => i.value),
      items.map((i) => i.outputName),
      p.evaluatorId ? null : p.sub,
      p.evaluatorId,
      now,
    ],
  );
  return rows[0] as { created: Row[]; missing: number; unfit: number };
}

const ITEM_FIELDS = ['evaluation_label_id', 'output_name', 'field_path', 'value'];

/** One item's shape, checked as Assay's DTO checks it. */
function item(body: unknown, runId?: string) {
  if (typeof body !== 'object' || body === null) throw new HttpError(400, 'body must be an object');
  const b = body as Record<string, unknown>;
  const allowed = runId === undefined ? [...ITEM_FIELDS, 'run_id'] : ITEM_FIELDS;
  for (const key of Object.keys(b)) {
    if (!allowed.includes(key)) throw new HttpError(400, `unknown field ${key}`);
  }
  if (typeof b.evaluation_label_id !== 'string') throw new HttpError(400, 'bad label id');
  if (typeof b.value !== 'number' || !Number.isFinite(b.value))
    throw new HttpError(400, 'bad value');
  if (b.output_name !== undefined && typeof b.output_name !== 'string') {
    throw new HttpError(400, 'bad output_name');
  }
  return {
    runId: uuid(runId ?? String(b.run_id)),
    labelId: uuid(b.evaluation_label_id),
    value: b.value,
    outputName: b.output_name ?? null,
  };
}

function refuse(result: { missing: number; unfit: number }): void {
  if (result.missing > 0) throw new HttpError(404, 'run or label not found');
  if (result.unfit > 0) throw new HttpError(422, 'value does not fit');
}

app.post<{ Params: { id: string }; Body: unknown }>(
  '/v1/run/:id/evaluations',
  async (req, reply) => {
    const p = principal(req.headers.authorization);
    const result = await insertEvaluations(p, [item(req.body, req.params.id)]);
    refuse(result);
    return reply.status(201).send(view(result.created[0]));
  },
);

app.post<{ Body: { items?: unknown } }>('/v1/evaluations/batch', async (req, reply) => {
  const p = principal(req.headers.authorization);
  const items = req.body?.items;
  if (!Array.isArray(items) || items.length < 1 || items.length > 1000) {
    throw new HttpError(400, 'items must hold 1 to 1000 evaluations');
  }
  const result = await insertEvaluations(
    p,
    items.map((i) => item(i)),
  );
  refuse(result);
  return reply.status(201).send(result.created.map(view));
});

app.get<{ Params: { id: string }; Querystring: { limit?: string } }>(
  '/v1/run/:id/evaluations',
  async (req) => {
    const p = principal(req.headers.authorization);
    const runId = uuid(req.params.id);
    const limit = req.query.limit ? Number(req.query.limit) : 1000;
    const run = await pool.query('SELECT 1 FROM runs WHERE account_id = $1 AND id = $2', [
      p.accountId,
      runId,
    ]);
    if (!run.rows[0]) throw new HttpError(404, 'run not found');
    const { rows } = await pool.query(
      `SELECT * FROM run_evaluations WHERE account_id = $1 AND run_id = $2
        ORDER BY created_at, id LIMIT $3`,
      [p.accountId, runId, limit + 1],
    );
    return (rows as Row[]).slice(0, limit).map(view);
  },
);

app.get<{ Params: { run_id: string; evaluation_id: string } }>(
  '/v1/run/:run_id/evaluation/:evaluation_id',
  async (req) => {
    const p = principal(req.headers.authorization);
    const { rows } = await pool.query(
      'SELECT * FROM run_evaluations WHERE account_id = $1 AND run_id = $2 AND id = $3',
      [p.accountId, uuid(req.params.run_id), uuid(req.params.evaluation_id)],
    );
    if (!rows[0]) throw new HttpError(404, 'evaluation not found');
    return view(rows[0] as Row);
  },
);

app.put<{ Params: { run_id: string; evaluation_id: string }; Body: Record<string, unknown> }>(
  '/v1/run/:run_id/evaluation/:evaluation_id',
  async (req) => {
    const p = principal(req.headers.authorization);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Object.keys(body).some((k) => k !== 'value')) {
      throw new HttpError(400, 'only value may change');
    }
    const runId = uuid(req.params.run_id);
    const id = uuid(req.params.evaluation_id);
    return view(
      await transaction(async (c) => {
        const { rows } = await c.query(
          'SELECT * FROM run_evaluations WHERE account_id = $1 AND run_id = $2 AND id = $3 FOR UPDATE',
          [p.accountId, runId, id],
        );
        const e = rows[0] as Row | undefined;
        if (!e) throw new HttpError(404, 'evaluation not found');
        const l = await label(c, p.accountId, e.evaluation_label_id as string);
        const value = checkValue(l, body.value);
        const old = { value: e.value, label_version: e.label_version };
        Object.assign(e, {
          value,
          label_version: l.version,
          updated_by: p.sub,
          updated_at: new Date(),
        });
        await c.query(
          'UPDATE run_evaluations SET value = $1, label_version = $2, updated_by = $3, updated_at = $4 WHERE id = $5',
          [value, e.label_version, e.updated_by, e.updated_at, id],
        );
        await change(c, p, e, 'update', old);
        return e;
      }),
    );
  },
);

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => pool.end()));
