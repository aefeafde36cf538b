// The floor: the same four operations on plain Fastify + pg, with the same SQL, the same
// JWT check and the same value validation as Assay, and no framework, ORM or validation
// library. Started by bench.ts as a child process: PORT, DATABASE_URL, JWT_SECRET.
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

async function change(c: pg.PoolClient, p: Principal, e: Row, op: string, old: unknown) {
  await c.query(
    `INSERT INTO evaluation_changes (account_id, run_id, evaluation_id, operation, old_value, new_value,
       changed_by, changed_by_evaluator_id, changed_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
    [
      p.accountId,
      e.run_id,
      e.id,
      op,
      old,
      e.value,
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

app.post<{ Params: { id: string }; Body: Record<string, unknown> }>(
  '/v1/run/:id/evaluations',
  async (req, reply) => {
    const p = principal(req.headers.authorization);
    const runId = uuid(req.params.id);
    const body = req.body;
    if (typeof body !== 'object' || body === null)
      throw new HttpError(400, 'body must be an object');
    for (const key of Object.keys(body)) {
      if (!['evaluation_label_id', 'output_name', 'field_path', 'value'].includes(key)) {
        throw new HttpError(400, `unknown field ${key}`);
      }
    }
    if (typeof body.evaluation_label_id !== 'string') throw new HttpError(400, 'bad label id');
    const labelId = uuid(body.evaluation_label_id);
    const created = await transaction(async (c) => {
      const run = await c.query(
        'SELECT outputs FROM runs WHERE account_id = $1 AND id = $2 FOR SHARE',
        [p.accountId, runId],
      );
      if (!run.rows[0]) throw new HttpError(404, 'run not found');
      const l = await label(c, p.accountId, labelId);
      if (l.archived_at) throw new HttpError(422, 'label archived');
      const now = new Date();
      const e: Row = {
        id: randomUUID(),
        account_id: p.accountId,
        run_id: runId,
        output_name: body.output_name ?? null,
        field_path: body.field_path ?? null,
        evaluation_label_id: labelId,
        value: checkValue(l, body.value),
        created_by: p.evaluatorId ? null : p.sub,
        created_by_evaluator_id: p.evaluatorId,
        created_at: now,
        updated_by: null,
        updated_at: now,
      };
      await c.query(
        `INSERT INTO run_evaluations (id, account_id, run_id, output_name, field_path, evaluation_label_id,
           value, created_by, created_by_evaluator_id, created_at, updated_by, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
        Object.values(e),
      );
      await change(c, p, e, 'create', null);
      return e;
    });
    return reply.status(201).send(view(created));
  },
);

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
        const value = checkValue(
          await label(c, p.accountId, e.evaluation_label_id as string),
          body.value,
        );
        const old = e.value;
        Object.assign(e, { value, updated_by: p.sub, updated_at: new Date() });
        await c.query(
          'UPDATE run_evaluations SET value = $1, updated_by = $2, updated_at = $3 WHERE id = $4',
          [value, e.updated_by, e.updated_at, id],
        );
        await change(c, p, e, 'update', old);
        return e;
      }),
    );
  },
);

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => pool.end()));
