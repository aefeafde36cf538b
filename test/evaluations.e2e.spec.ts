import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import {
  createEvaluation,
  createEvaluator,
  createLabel,
  createRun,
  insertEvaluations,
} from './support/factories.js';

describe.each(DATABASES)('evaluations on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const post = (runId: string, body: unknown, auth = bearer()) =>
    t.http
      .post(`/v1/run/${runId}/evaluations`)
      .set(auth)
      .send(body as object);

  describe('values fit their label', () => {
    const cases: [string, Record<string, unknown>, number[], number[]][] = [
      ['binary', { value_type: 'binary' }, [0, 1], [-1, 0.5, 2, 1.0000001]],
      [
        'continuous',
        { value_type: 'continuous', min_value: -2.5, max_value: 10 },
        [-2.5, 0, 10],
        [-2.5000001, 10.000001, 11],
      ],
      [
        'categorical',
        { value_type: 'categorical', categories: ['a', 'b', 'c'] },
        [0, 2],
        [-1, 3, 1.5],
      ],
      ['ordinal', { value_type: 'ordinal', categories: ['low', 'high'] }, [0, 1], [-1, 2, 0.1]],
    ];
    it.each(cases)(
      '%s: accepts the bounds, refuses just past them with 422',
      async (_type, def, good, bad) => {
        const label = await createLabel(t.http, def);
        const run = await createRun(t.http);
        for (const value of good) {
          const res = await post(run.id, { evaluation_label_id: label.id, value });
          expect(res.status).toBe(201);
          expect(res.body.value).toBe(value);
        }
        for (const value of bad) {
          const res = await post(run.id, { evaluation_label_id: label.id, value });
          expect(res.status).toBe(422);
          expect(res.body.code).toBe('value_out_of_range');
          expect(res.body.error).toContain(label.name);
        }
        const list = await t.http.get(`/v1/run/${run.id}/evaluations`).set(bearer());
        expect(list.body.map((e: { value: number }) => e.value)).toEqual(good);
      },
    );

    it('refuses a non-number, a string number and an overflowing number with 400', async () => {
      const label = await createLabel(t.http);
      const run = await createRun(t.http);
      for (const value of ['1', null, true, [1], { v: 1 }]) {
        const res = await post(run.id, { evaluation_label_id: label.id, value });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'validation_failed' });
        expect(res.body.details).toContainEqual({
          field: 'value',
          message: 'value must be a finite number',
        });
      }
      const overflow = await t.http
        .post(`/v1/run/${run.id}/evaluations`)
        .set(bearer())
        .set('content-type', 'application/json')
        .send(`{"evaluation_label_id":"${label.id}","value":1e400}`);
      expect(overflow.status).toBe(400);
    });
  });

  it('creates an evaluation exactly as the given spec shows it, and records the change', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http, { outputs: { answer: { score: 3 } } });
    const res = await post(run.id, {
      evaluation_label_id: label.id,
      value: 4.5,
      output_name: 'answer',
      field_path: 'score',
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(
      [
        'account_id',
        'created_at',
        'created_by',
        'created_by_evaluator_id',
        'evaluation_label_id',
        'field_path',
        'id',
        'output_name',
        'run_id',
        'updated_at',
        'updated_by',
        'value',
      ].sort(),
    );
    expect(res.body).toMatchObject({
      account_id: 'acme',
      run_id: run.id,
      evaluation_label_id: label.id,
      output_name: 'answer',
      field_path: 'score',
      value: 4.5,
      created_by: 'alice',
      created_by_evaluator_id: null,
      updated_by: null,
    });
    expect(res.body.updated_at).toBe(res.body.created_at);
    const history = await t.http
      .get(`/v1/run/${run.id}/evaluation/${res.body.id}/history`)
      .set(bearer());
    expect(history.status).toBe(200);
    expect(history.body).toEqual([
      expect.objectContaining({
        operation: 'create',
        old_value: null,
        new_value: 4.5,
        changed_by: 'alice',
      }),
    ]);
  });

  it('takes provenance from an evaluator token', async () => {
    const evaluator = (await createEvaluator(t.http)).id;
    const auth = bearer(token({ sub: 'svc-judge', evaluator }));
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const res = await post(run.id, { evaluation_label_id: label.id, value: 1 }, auth);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ created_by: null, created_by_evaluator_id: evaluator });
    const put = await t.http
      .put(`/v1/run/${run.id}/evaluation/${res.body.id}`)
      .set(auth)
      .send({ value: 2 });
    expect(put.body).toMatchObject({ updated_by: 'svc-judge', created_by_evaluator_id: evaluator });
  });

  it('answers 404 for a run or label that does not exist', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const noRun = await post(randomUUID(), { evaluation_label_id: label.id, value: 1 });
    expect(noRun.status).toBe(404);
    expect(noRun.body.code).toBe('not_found');
    const noLabel = await post(run.id, { evaluation_label_id: randomUUID(), value: 1 });
    expect(noLabel.status).toBe(404);
    expect(noLabel.body.error).toMatch(/Evaluation label .* was not found/);
  });

  describe('output_name and field_path', () => {
    let label: { id: string };
    let run: { id: string };
    beforeAll(async () => {
      label = await createLabel(t.http);
      run = await createRun(t.http, {
        outputs: { answer: { text: 'hi', scores: [1, 2] }, summary: 'short' },
      });
    });

    it('accepts an output of the run and a path that selects something', async () => {
      for (const body of [
        { output_name: 'answer' },
        { output_name: 'answer', field_path: '$.scores[1]' },
        { output_name: 'answer', field_path: 'text' },
        { field_path: '$.answer.scores[?@ > 1]' },
        { output_name: 'summary', field_path: '$' },
      ]) {
        const res = await post(run.id, { evaluation_label_id: label.id, value: 1, ...body });
        expect([res.status, body]).toEqual([201, body]);
        expect(res.body.field_path).toBe(body.field_path ?? null);
      }
    });

    it('refuses an output the run does not have with 422', async () => {
      const res = await post(run.id, {
        evaluation_label_id: label.id,
        value: 1,
        output_name: 'other',
      });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'unknown_output' });
      expect(res.body.error).toContain('"answer", "summary"');
    });

    it('refuses bad JSONPath syntax with 400, even on a run without outputs', async () => {
      const bare = await createRun(t.http);
      for (const target of [run, bare]) {
        const res = await post(target.id, {
          evaluation_label_id: label.id,
          value: 1,
          field_path: '$.a[',
        });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('invalid_field_path');
      }
    });

    it('refuses a path that selects nothing with 422, unless nothing is recorded yet', async () => {
      const res = await post(run.id, {
        evaluation_label_id: label.id,
        value: 1,
        output_name: 'answer',
        field_path: 'missing',
      });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('field_path_not_found');
      const bare = await createRun(t.http);
      const ok = await post(bare.id, {
        evaluation_label_id: label.id,
        value: 1,
        output_name: 'any',
        field_path: 'missing',
      });
      expect(ok.status).toBe(201);
    });
  });

  describe('read, update, delete, history', () => {
    it('gets one evaluation, and 404s it under another run', async () => {
      const label = await createLabel(t.http);
      const run = await createRun(t.http);
      const other = await createRun(t.http);
      const e = await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 2 });
      const got = await t.http.get(`/v1/run/${run.id}/evaluation/${e.id}`).set(bearer());
      expect(got.status).toBe(200);
      expect(got.body).toEqual(e);
      for (const method of ['get', 'put', 'delete'] as const) {
        const res = await t.http[method](`/v1/run/${other.id}/evaluation/${e.id}`)
          .set(bearer())
          .send({ value: 1 });
        expect(res.status).toBe(404);
      }
    });

    it('PUT changes the value only, validates it, and records the change', async () => {
      const label = await createLabel(t.http, { value_type: 'binary' });
      const run = await createRun(t.http);
      const e = await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 0 });
      const url = `/v1/run/${run.id}/evaluation/${e.id}`;
      const put = await t.http
        .put(url)
        .set(bearer(token({ sub: 'bob' })))
        .send({ value: 1 });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ value: 1, updated_by: 'bob', created_by: 'alice' });
      expect(put.body.updated_at >= put.body.created_at).toBe(true);
      for (const body of [{}, { value: 1, output_name: 'x' }, { value: '1' }]) {
        const bad = await t.http.put(url).set(bearer()).send(body);
        expect([bad.status, bad.body.code]).toEqual([400, 'validation_failed']);
      }
      const outOfRange = await t.http.put(url).set(bearer()).send({ value: 2 });
      expect([outOfRange.status, outOfRange.body.code]).toEqual([422, 'value_out_of_range']);
      const history = await t.http.get(`${url}/history`).set(bearer());
      expect(
        history.body.map((c: { operation: string; old_value: number; new_value: number }) => [
          c.operation,
          c.old_value,
          c.new_value,
        ]),
      ).toEqual([
        ['create', null, 0],
        ['update', 0, 1],
      ]);
    });

    (db.env.DATABASE_URL ? it : it.skip)(
      'PUT checks the value against its label without waiting for a change of that label',
      async () => {
        const label = await createLabel(t.http, {
          value_type: 'categorical',
          categories: ['bad', 'ok', 'good'],
        });
        const run = await createRun(t.http);
        const e = await createEvaluation(t.http, run.id, {
          evaluation_label_id: label.id,
          value: 0,
        });
        const url = `/v1/run/${run.id}/evaluation/${e.id}`;
        const other = new pg.Client({ connectionString: db.env.DATABASE_URL });
        await other.connect();
        try {
          // What a PATCH or DELETE of the label holds while it runs.
          await other.query('BEGIN');
          await other.query('SELECT 1 FROM evaluation_labels WHERE id = $1 FOR UPDATE', [label.id]);
          const put = await t.http.put(url).set(bearer()).send({ value: 2 });
          expect([put.status, put.body.value]).toEqual([200, 2]);
          const bad = await t.http.put(url).set(bearer()).send({ value: 3 });
          expect([bad.status, bad.body.code]).toEqual([422, 'value_out_of_range']);
          expect(bad.body.error).toContain(label.name);
        } finally {
          await other.query('ROLLBACK');
          await other.end();
        }
      },
    );

    it('records concurrent updates of one evaluation in the order they took effect', async () => {
      const label = await createLabel(t.http, { min_value: 0, max_value: 100 });
      const run = await createRun(t.http);
      const e = await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 0 });
      const url = `/v1/run/${run.id}/evaluation/${e.id}`;
      const values = Array.from({ length: 12 }, (_, i) => i + 1);
      const results = await Promise.all(
        values.map((value) => t.http.put(url).set(bearer()).send({ value })),
      );
      expect(results.map((r) => r.status)).toEqual(values.map(() => 200));
      const history = (await t.http.get(`${url}/history`).set(bearer())).body as {
        old_value: number;
        new_value: number;
      }[];
      expect(history).toHaveLength(values.length + 1);
      // Each update replaced exactly the value the one before it wrote: a chain, no lost update.
      for (let i = 1; i < history.length; i++)
        expect(history[i].old_value).toBe(history[i - 1].new_value);
      const final = await t.http.get(url).set(bearer());
      expect(final.body.value).toBe(history[history.length - 1].new_value);
    });

    it('DELETE answers 204, then the evaluation is gone and its delete is recorded', async () => {
      const label = await createLabel(t.http);
      const run = await createRun(t.http);
      const e = await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 3 });
      const url = `/v1/run/${run.id}/evaluation/${e.id}`;
      expect((await t.http.delete(url).set(bearer())).status).toBe(204);
      expect((await t.http.get(url).set(bearer())).status).toBe(404);
      expect((await t.http.delete(url).set(bearer())).status).toBe(404);
      const [change] = await t.dataSource.query(
        'SELECT operation, old_value FROM evaluation_changes WHERE evaluation_id = $1 ORDER BY seq DESC LIMIT 1',
        [e.id],
      );
      expect(change).toEqual({ operation: 'delete', old_value: 3 });
    });

    it('deleting a run removes its evaluations', async () => {
      const label = await createLabel(t.http);
      const run = await createRun(t.http);
      const e = await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 3 });
      expect((await t.http.delete(`/v1/run/${run.id}`).set(bearer())).status).toBe(204);
      expect((await t.http.get(`/v1/run/${run.id}/evaluation/${e.id}`).set(bearer())).status).toBe(
        404,
      );
      const [{ count }] = await t.dataSource.query(
        'SELECT count(*)::int AS count FROM run_evaluations WHERE id = $1',
        [e.id],
      );
      expect(count).toBe(0);
    });

    it('an archived label keeps its evaluations readable and takes no new ones', async () => {
      const label = await createLabel(t.http);
      const run = await createRun(t.http);
      const e = await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 3 });
      expect((await t.http.delete(`/v1/evaluation-label/${label.id}`).set(bearer())).status).toBe(
        204,
      );
      const archived = await t.http.get(`/v1/evaluation-label/${label.id}`).set(bearer());
      expect(archived.body.archived_at).not.toBeNull();
      expect((await t.http.get(`/v1/run/${run.id}/evaluation/${e.id}`).set(bearer())).status).toBe(
        200,
      );
      const res = await post(run.id, { evaluation_label_id: label.id, value: 1 });
      expect([res.status, res.body.code]).toEqual([422, 'label_archived']);
    });
  });

  describe('list', () => {
    it('filters by label, output, creator and evaluator', async () => {
      const a = await createLabel(t.http);
      const b = await createLabel(t.http);
      const evaluator = (await createEvaluator(t.http)).id;
      const run = await createRun(t.http, { outputs: { x: 1, y: 2 } });
      await createEvaluation(t.http, run.id, {
        evaluation_label_id: a.id,
        value: 1,
        output_name: 'x',
      });
      await createEvaluation(
        t.http,
        run.id,
        { evaluation_label_id: b.id, value: 2, output_name: 'y' },
        bearer(token({ sub: 'bob' })),
      );
      await createEvaluation(
        t.http,
        run.id,
        { evaluation_label_id: b.id, value: 3 },
        bearer(token({ evaluator })),
      );
      const values = async (query: string) =>
        (await t.http.get(`/v1/run/${run.id}/evaluations?${query}`).set(bearer())).body.map(
          (e: { value: number }) => e.value,
        );
      expect(await values('')).toEqual([1, 2, 3]);
      expect(await values(`evaluation_label_id=${b.id}`)).toEqual([2, 3]);
      expect(await values('output_name=x')).toEqual([1]);
      expect(await values('created_by=bob')).toEqual([2]);
      expect(await values(`created_by_evaluator_id=${evaluator}`)).toEqual([3]);
      const bad = await t.http
        .get(`/v1/run/${run.id}/evaluations?evaluation_label_id=nope`)
        .set(bearer());
      expect(bad.status).toBe(400);
      const unknown = await t.http.get(`/v1/run/${run.id}/evaluations?colour=red`).set(bearer());
      expect(unknown.status).toBe(400);
    });

    it('answers 404 for a run that does not exist, and [] for one without evaluations', async () => {
      expect((await t.http.get(`/v1/run/${randomUUID()}/evaluations`).set(bearer())).status).toBe(
        404,
      );
      const run = await createRun(t.http);
      const res = await t.http.get(`/v1/run/${run.id}/evaluations`).set(bearer());
      expect([res.status, res.body, res.headers.link]).toEqual([200, [], undefined]);
    });

    it('pages through 5,000 evaluations exactly once each, while new ones are written', async () => {
      const label = await createLabel(t.http);
      const run = await createRun(t.http);
      const seeded = await insertEvaluations(t.dataSource, 'acme', run.id, label.id, 5000);
      const seen: string[] = [];
      let url: string | undefined =
        `/v1/run/${run.id}/evaluations?limit=250&evaluation_label_id=${label.id}`;
      let pages = 0;
      while (url) {
        const [page] = await Promise.all([
          t.http.get(url).set(bearer()),
          createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 1 }),
        ]);
        expect(page.status).toBe(200);
        seen.push(...page.body.map((e: { id: string }) => e.id));
        const link = page.headers.link as string | undefined;
        url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
        if (url) expect(url).toContain(`evaluation_label_id=${label.id}`);
        pages++;
      }
      expect(pages).toBeGreaterThanOrEqual(20);
      expect(new Set(seen).size).toBe(seen.length);
      const seenSet = new Set(seen);
      expect(seeded.filter((id) => !seenSet.has(id))).toEqual([]);
    });

    it('refuses a forged cursor and an out-of-range limit with 400', async () => {
      const run = await createRun(t.http);
      for (const query of ['cursor=abc', 'limit=0', 'limit=1001', 'limit=ten']) {
        const res = await t.http.get(`/v1/run/${run.id}/evaluations?${query}`).set(bearer());
        expect([query, res.status]).toEqual([query, 400]);
      }
    });
  });
});
