// The floor: Assay's operations on plain Fastify + pg, with the same JWT check and the same
// value rules as Assay, and no framework, ORM or validation library. Every write is one
// statement (bench/floor.ts): the evaluations, their change rows, their events in the
// outbox and, with an Idempotency-Key, the key and its answer, in the fewest round trips
// that keep the rules it checks (run, label, archived, value, output name; not field_path,
// which needs RFC 9535 JSONPath). The JWT is verified on every request, with a key made once.
// For `--reviews`, a review queue's claim and review, one statement each, on queues made
// through Assay; and under /least, the least a claim and a review can be (floor.ts,
// LEAST_TABLES), with the POST to compare them with, all three prepared: what is left when
// nothing but the writes themselves costs.
// Started by bench.ts as a child process: PORT, DATABASE_URL, JWT_SECRET.
import { createSecretKey } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import {
  ASSAY_QUEUES,
  claim,
  create,
  fingerprint,
  FloorError,
  GET_ONE_SQL,
  LEAST_QUEUES,
  LEAST_TABLES,
  LIST_SQL,
  type Principal,
  type Query,
  type QueueStatements,
  type Row,
  review,
  RUN_EXISTS_SQL,
  update,
  UUID,
  uuid,
  view,
} from './floor.js';

// The same pool as Assay's (src/database/data-source-options.ts): 32 connections unless
// DB_POOL_SIZE says otherwise, idle ones kept 60 s.
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_SIZE ?? 32),
  idleTimeoutMillis: 60_000,
});
const secret = createSecretKey(Buffer.from(process.env.JWT_SECRET!));

function principal(header: string | undefined): Principal {
  if (!header?.startsWith('Bearer ')) throw new FloorError(401, 'token required');
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(header.slice(7), secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
  } catch {
    throw new FloorError(401, 'token refused');
  }
  const { sub, exp, account_id: accountId, evaluator_id: evaluatorId } = claims;
  if (typeof exp !== 'number' || typeof sub !== 'string' || typeof accountId !== 'string') {
    throw new FloorError(401, 'claims missing');
  }
  if (evaluatorId !== undefined && (typeof evaluatorId !== 'string' || !UUID.test(evaluatorId))) {
    throw new FloorError(401, 'bad evaluator_id');
  }
  return { accountId, sub, evaluatorId: (evaluatorId as string | undefined) ?? null };
}

const app = Fastify({ logger: false });

app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply: FastifyReply) => {
  const status = err instanceof FloorError ? err.status : (err.statusCode ?? 500);
  void reply.status(status).send({ error: err.message });
});

const ITEM_FIELDS = ['evaluation_label_id', 'output_name', 'field_path', 'value'];

/** One item's shape, checked as Assay's DTO checks it. */
function item(body: unknown, runId?: string) {
  if (typeof body !== 'object' || body === null)
    throw new FloorError(400, 'body must be an object');
  const b = body as Record<string, unknown>;
  const allowed = runId === undefined ? [...ITEM_FIELDS, 'run_id'] : ITEM_FIELDS;
  for (const key of Object.keys(b)) {
    if (!allowed.includes(key)) throw new FloorError(400, `unknown field ${key}`);
  }
  if (typeof b.evaluation_label_id !== 'string') throw new FloorError(400, 'bad label id');
  if (typeof b.value !== 'number' || !Number.isFinite(b.value))
    throw new FloorError(400, 'bad value');
  if (b.output_name !== undefined && typeof b.output_name !== 'string') {
    throw new FloorError(400, 'bad output_name');
  }
  return {
    runId: uuid(runId ?? String(b.run_id)),
    labelId: uuid(b.evaluation_label_id),
    value: b.value,
    outputName: b.output_name ?? null,
  };
}

/** The Idempotency-Key of a request, with its fingerprint, if it has one. */
function claimOf(req: { headers: Record<string, unknown>; url: string; body: unknown }) {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string') return undefined;
  return { key, fingerprint: fingerprint('POST', req.url, req.body) };
}

const query: Query = async (sql, params) => (await pool.query(sql, params)).rows as Row[];

// Statements named by their text, so that each connection parses and plans each once.
const names = new Map<string, string>();
const prepared: Query = async (text, values) => {
  let name = names.get(text);
  if (name === undefined) names.set(text, (name = `least_${names.size}`));
  return (await pool.query({ name, text, values })).rows as Row[];
};

/** Creates evaluations; a key already taken gets its stored answer. */
async function send(reply: FastifyReply, created: Promise<{ status: number; body: string }>) {
  const { status, body } = await created;
  return reply.status(status).type('application/json').send(body);
}

app.post<{ Params: { id: string }; Body: unknown }>(
  '/v1/run/:id/evaluations',
  async (req, reply) => {
    const p = principal(req.headers.authorization);
    return send(reply, create(query, p, [item(req.body, req.params.id)], claimOf(req)));
  },
);

app.post<{ Body: { items?: unknown } }>('/v1/evaluations/batch', async (req, reply) => {
  const p = principal(req.headers.authorization);
  const items = req.body?.items;
  if (!Array.isArray(items) || items.length < 1 || items.length > 1000) {
    throw new FloorError(400, 'items must hold 1 to 1000 evaluations');
  }
  return send(
    reply,
    create(
      query,
      p,
      items.map((i) => item(i)),
      claimOf(req),
    ),
  );
});

app.get<{ Params: { id: string }; Querystring: { limit?: string } }>(
  '/v1/run/:id/evaluations',
  async (req) => {
    const p = principal(req.headers.authorization);
    const runId = uuid(req.params.id);
    const limit = req.query.limit ? Number(req.query.limit) : 1000;
    const run = await pool.query(RUN_EXISTS_SQL, [p.accountId, runId]);
    if (!run.rows[0]) throw new FloorError(404, 'run not found');
    const { rows } = await pool.query(LIST_SQL, [p.accountId, runId, limit + 1]);
    return (rows as Row[]).slice(0, limit).map(view);
  },
);

app.get<{ Params: { run_id: string; evaluation_id: string } }>(
  '/v1/run/:run_id/evaluation/:evaluation_id',
  async (req) => {
    const p = principal(req.headers.authorization);
    const { rows } = await pool.query(GET_ONE_SQL, [
      p.accountId,
      uuid(req.params.run_id),
      uuid(req.params.evaluation_id),
    ]);
    if (!rows[0]) throw new FloorError(404, 'evaluation not found');
    return view(rows[0] as Row);
  },
);

app.put<{ Params: { run_id: string; evaluation_id: string }; Body: Record<string, unknown> }>(
  '/v1/run/:run_id/evaluation/:evaluation_id',
  async (req, reply) => {
    const p = principal(req.headers.authorization);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Object.keys(body).some((k) => k !== 'value')) {
      throw new FloorError(400, 'only value may change');
    }
    if (typeof body.value !== 'number' || !Number.isFinite(body.value)) {
      throw new FloorError(400, 'bad value');
    }
    const updated = await update(query, p, req.params.run_id, req.params.evaluation_id, body.value);
    return reply.type('application/json').send(updated);
  },
);

/** The claim and review routes, sending `queues`' statements through `queries`. */
function reviewRoutes(server: FastifyInstance, queries: Query, queues: QueueStatements) {
  server.post<{ Params: { id: string } }>('/v1/review-queue/:id/claim', async (req, reply) => {
    const p = principal(req.headers.authorization);
    const claimed = await claim(queries, queues, p, req.params.id);
    if (!claimed) return reply.status(204).send();
    const { expires_at: expiresAt, ...item } = claimed;
    return { item, expires_at: expiresAt };
  });

  server.post<{ Params: { id: string; item_id: string }; Body: Record<string, unknown> }>(
    '/v1/review-queue/:id/item/:item_id/reviews',
    async (req, reply) => {
      const p = principal(req.headers.authorization);
      const evaluations = req.body?.evaluations;
      if (!Array.isArray(evaluations) || evaluations.length !== 1) {
        throw new FloorError(400, 'one evaluation, please');
      }
      const only = evaluations[0] as Record<string, unknown>;
      const { evaluation_label_id: labelId, value } = only;
      if (typeof labelId !== 'string' || typeof value !== 'number' || !Number.isFinite(value)) {
        throw new FloorError(400, 'bad evaluation');
      }
      const answer = await review(
        queries,
        queues,
        p,
        req.params.id,
        req.params.item_id,
        labelId,
        value,
      );
      return reply.status(201).type('application/json').send(answer);
    },
  );
}

reviewRoutes(app, query, ASSAY_QUEUES);

await pool.query(LEAST_TABLES);
await app.register(
  (least, _options, done) => {
    least.post<{ Params: { id: string }; Body: unknown }>(
      '/v1/run/:id/evaluations',
      async (req, reply) => {
        const p = principal(req.headers.authorization);
        return send(reply, create(prepared, p, [item(req.body, req.params.id)], undefined));
      },
    );
    reviewRoutes(least, prepared, LEAST_QUEUES);
    done();
  },
  { prefix: '/least' },
);

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => pool.end()));
