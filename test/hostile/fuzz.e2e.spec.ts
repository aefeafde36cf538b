import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Response } from 'supertest';
import { OPENAPI_FILE } from '../../src/openapi/openapi.js';
import { bearer, DATABASES, startApp, type TestApp } from '../support/app.js';
import { createEvaluation, createLabel, createRun } from '../support/factories.js';
import { type FuzzRequest, fuzzRequests, IdPool, operations } from './requests.js';

/**
 * Hostile requests generated from the committed OpenAPI document, so that a new route is
 * fuzzed without a case written for it: its body, each query parameter (one hostile among
 * valid ones) and the headers it documents, with Accept, If-None-Match, Content-Type and
 * Authorization on every route. FUZZ_RUNS requests in all (default 10,000), shared
 * between the databases; FUZZ_SEED replays a run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Record<string, never>;

const SNAKE_CASE = /^[a-z]+(_[a-z0-9]+)*$/;

/** What of a table counts where the service itself updates rows in the background. */
const BACKGROUND: Record<string, string> = {
  // The relay stamps positions and sent_at on writes after their request has answered.
  outbox_writes: 't.first_id::text',
};

/** One SQL statement that fingerprints every table: any write a request makes changes it. */
async function fingerprintQuery(t: TestApp): Promise<string> {
  const tables = await t.dataSource.query<{ name: string }[]>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations'`,
  );
  return `SELECT ${tables
    .map(
      ({ name }) =>
        `(SELECT count(*) || ':' || coalesce(sum(hashtext(${BACKGROUND[name] ?? 't::text'})::bigint), 0) FROM "${name}" t) AS "${name}"`,
    )
    .join(', ')}`;
}

function send(t: TestApp, r: FuzzRequest): Promise<Response> {
  let req = t.http[r.method.toLowerCase() as 'get'](r.url).timeout(30_000);
  for (const [name, value] of Object.entries(r.headers)) req = req.set(name, value as string);
  if (r.body === undefined) return req;
  // superagent would turn a Buffer into JSON of its bytes: hand it over as it is.
  const raw = r.body;
  return req.serialize(() => raw as string).send({});
}

console.log(
  `hostile-input fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} over ${DATABASES.length} database(s), ` +
    `${operations(doc).length} operations`,
);

describe.each(DATABASES)('hostile requests from the OpenAPI document on $name', (db) => {
  let t: TestApp;
  const pool = new IdPool();
  beforeAll(async () => {
    // Limits off: a 429 would hide what the route itself does with the request.
    t = await startApp(db, { RATE_LIMIT: '0', BAD_TOKEN_LIMIT: '0', BODY_LIMIT: '1048576' });
    const run = await createRun(t.http, { outputs: { answer: { text: 'hi', score: 3 } } });
    const label = await createLabel(t.http);
    const evaluation = await createEvaluation(t.http, run.id, {
      evaluation_label_id: label.id,
      value: 2,
      output_name: 'answer',
    });
    pool.add('run', run.id);
    pool.add('evaluation-label', label.id);
    pool.add('evaluation', evaluation.id);
    await t.http.get('/v1/runs').set(bearer()); // warm up before timing anything
  });
  afterAll(() => t.close());

  it(`answers ${Math.ceil(RUNS / DATABASES.length)} hostile requests: never a 5xx, always the one error body, no write on failure`, async () => {
    const fingerprint = await fingerprintQuery(t);
    const state = async () => JSON.stringify(await t.dataSource.query(fingerprint));
    let before = await state();
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(fuzzRequests(doc, pool), async (r) => {
        const res = await send(t, r);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const what = `${r.method} ${r.url.slice(0, 300)} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
        if (res.status >= 500) throw new Error(`5xx: ${what}`);
        const after = await state();
        if (res.status >= 400) {
          const body = res.body as Record<string, unknown>;
          if (
            typeof body?.error !== 'string' ||
            typeof body.code !== 'string' ||
            !SNAKE_CASE.test(body.code) ||
            typeof body.request_id !== 'string'
          ) {
            throw new Error(`not the one error body: ${what}`);
          }
          if (after !== before) throw new Error(`a failed request wrote: ${what}`);
        } else if (res.status === 201) {
          const made = res.body as { id?: unknown; run_id?: unknown };
          pool.add(
            r.url.includes('/evaluations')
              ? 'evaluation'
              : r.url.includes('label')
                ? 'evaluation-label'
                : 'run',
            made.id,
          );
        }
        before = after;
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / DATABASES.length), endOnFailure: true },
    );
    console.log(
      `${db.name}: answers by status ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
    // The fuzzer reached the routes, not only their refusals.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(201) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  }, 900_000);
});
