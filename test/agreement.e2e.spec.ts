import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { expectClose } from './support/close-to.js';
import { type Created, createEvaluation, createLabel, createRun } from './support/factories.js';
import { type LabelDef, otherValue } from './support/labels.js';
import { expectValidationFailed } from './support/validation.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/agreement/${name}`, import.meta.url), 'utf8'));
const DATASETS = fixture('datasets.json') as {
  agreement: {
    name: string;
    label: LabelDef;
    pairs: [number, number][];
    only_a?: number[];
    only_b?: number[];
  }[];
};
const REFERENCE = fixture('reference.json') as { agreement: Record<string, object> };

const ALICE = bearer(token({ sub: 'alice' }));
const BOB = bearer(token({ sub: 'bob' }));
const BY_ALICE_AND_BOB = { 'a.created_by': 'alice', 'b.created_by': 'bob' };

describe.each(DATABASES)('agreement on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const agreement = (labelId: string, query: Record<string, string>) =>
    t.http.get(`/v1/evaluation-label/${labelId}/agreement`).query(query).set(bearer());

  /** An evaluation of a whole run written straight into the table, created at `at`. */
  const insert = (runId: string, labelId: string, value: number, by: string, at: string) =>
    t.dataSource.query(
      `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value, created_by,
         created_at, updated_at, label_version)
       VALUES ($1, 'acme', $2, $3, $4, $5, $6, $6, 1)`,
      [randomUUID(), runId, labelId, value, by, at],
    );

  describe('figures match the reference on the fixture datasets', () => {
    it.each(DATASETS.agreement.map((d) => [d.name, d] as const))('%s', async (name, d) => {
      const label = await createLabel(t.http, d.label);
      const runs = [await createRun(t.http), await createRun(t.http), await createRun(t.http)];
      // Targets of every kind: whole runs first, then outputs and fields, NULLs included.
      const target = (i: number) => ({
        run: runs[i % 3],
        output_name: i >= 3 && i % 2 ? 'answer' : undefined,
        field_path: i >= 3 ? `$.f${i}` : undefined,
      });
      const post = async (i: number, value: number, auth: typeof ALICE) => {
        const { run, ...where } = target(i);
        return createEvaluation(
          t.http,
          run.id,
          { evaluation_label_id: label.id, value, ...where },
          auth,
        );
      };
      for (const [i, [a, b]] of d.pairs.entries()) {
        if (i === 0) {
          // An older value of a's, then a value corrected by PUT: only the latest, as it is now, counts.
          await insert(
            runs[0].id,
            label.id,
            otherValue(d.label, a),
            'alice',
            '2020-01-01T00:00:00Z',
          );
          const e = await post(i, otherValue(d.label, a), ALICE);
          const put = await t.http
            .put(`/v1/run/${runs[0].id}/evaluation/${e.id}`)
            .set(ALICE)
            .send({ value: a });
          expect(put.status).toBe(200);
        } else {
          await post(i, a, ALICE);
        }
        await post(i, b, BOB);
      }
      // Targets only one side evaluated are no pair; a deleted evaluation is none.
      let next = d.pairs.length;
      for (const a of d.only_a ?? []) await post(next++, a, ALICE);
      for (const b of d.only_b ?? []) await post(next++, b, BOB);
      const gone = await post(next, d.pairs[0]?.[0] ?? 0, BOB);
      await post(next, d.pairs[0]?.[0] ?? 0, ALICE);
      const del = await t.http
        .delete(`/v1/run/${target(next).run.id}/evaluation/${gone.id}`)
        .set(BOB);
      expect(del.status).toBe(204);

      const res = await agreement(label.id, BY_ALICE_AND_BOB);
      expect(res.status).toBe(200);
      expect(res.body.label).toMatchObject({ id: label.id, value_type: d.label.value_type });
      expectClose(res.body, REFERENCE.agreement[name]);
      // No figure of another value type, and none missing.
      expect(res.body).toMatchObject({
        label_versions: d.pairs.length ? [1] : [],
        warnings: [],
      });
      const expected = Object.keys(REFERENCE.agreement[name]).concat(
        'label',
        'label_versions',
        'warnings',
      );
      expect(Object.keys(res.body).sort()).toEqual(expected.sort());
    });
  });

  it("counts each side's latest evaluation of a target, by created_at then id", async () => {
    const label = await createLabel(t.http, { value_type: 'binary' });
    const runs = [await createRun(t.http), await createRun(t.http)];
    for (const run of runs) {
      await insert(run.id, label.id, 0, 'alice', '2026-01-01T00:00:00Z');
      await insert(run.id, label.id, 1, 'alice', '2026-01-02T00:00:00Z');
      await insert(run.id, label.id, 1, 'bob', '2026-01-02T00:00:00Z');
      await insert(run.id, label.id, 0, 'bob', '2026-01-01T00:00:00Z');
    }
    const res = await agreement(label.id, BY_ALICE_AND_BOB);
    expect(res.body).toMatchObject({
      n_pairs: 2,
      confusion: {
        categories: ['0', '1'],
        counts: [
          [0, 0],
          [0, 2],
        ],
      },
      percent_agreement: 1,
    });
    // Filters choose the evaluations before the latest is taken: a's latest in January 1st is 0.
    const narrowed = await agreement(label.id, {
      ...BY_ALICE_AND_BOB,
      'a.to': '2026-01-02T00:00:00Z',
    });
    expect(narrowed.body.confusion.counts).toEqual([
      [0, 2],
      [0, 0],
    ]);
  });

  it('pairs two groups told apart by any filter, e.g. human against evaluator', async () => {
    const label = await createLabel(t.http, { value_type: 'binary' });
    const run = await createRun(t.http, { workflow: `w ${randomUUID()}` });
    await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 1 });
    await t.dataSource.query(
      `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value,
         created_by_evaluator_id, created_at, updated_at, label_version)
       VALUES ($1, 'acme', $2, $3, 0, $4, now(), now(), 1)`,
      [randomUUID(), run.id, label.id, randomUUID()],
    );
    const res = await agreement(label.id, { 'a.source': 'human', 'b.source': 'evaluator' });
    expect(res.status).toBe(200);
    expect(res.body.n_pairs).toBe(1);
    expect(res.body.confusion.counts).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(res.body.kappa).toEqual({ estimate: null, ci95: null, weights: 'none' });
  });

  it('says when the pairs mix label versions, and label_version narrows each side', async () => {
    const label = await createLabel(t.http, {
      value_type: 'continuous',
      min_value: 0,
      max_value: 10,
    });
    const rate = async (run: Created, a: number, b: number) => {
      await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: a }, ALICE);
      await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: b }, BOB);
    };
    await rate(await createRun(t.http), 2, 3);
    await rate(await createRun(t.http), 8, 6);
    // A narrower range is a breaking change: version 2.
    const patch = await t.http
      .patch(`/v1/evaluation-label/${label.id}`)
      .set(bearer())
      .send({ max_value: 5 });
    expect([patch.status, patch.body.version]).toEqual([200, 2]);
    await rate(await createRun(t.http), 1, 1.5);
    await rate(await createRun(t.http), 4, 5);
    const mixed = await agreement(label.id, BY_ALICE_AND_BOB);
    expect(mixed.body).toMatchObject({
      n_pairs: 4,
      label_versions: [1, 2],
      warnings: ['mixed_label_versions'],
    });
    const second = await agreement(label.id, {
      ...BY_ALICE_AND_BOB,
      'a.label_version': '2',
      'b.label_version': '2',
    });
    expect(second.body).toMatchObject({
      n_pairs: 2,
      mean_difference: 0.75,
      label_versions: [2],
      warnings: [],
    });
    const missing = await agreement(label.id, { ...BY_ALICE_AND_BOB, 'b.label_version': '3' });
    expectValidationFailed(missing, 'b.label_version');
  });

  describe('bad input gets the one error body', () => {
    let label: Created;
    beforeAll(async () => {
      label = await createLabel(t.http, { value_type: 'binary' });
    });

    it.each([
      ['an unknown parameter', { colour: 'red' }, 'colour'],
      ['a filter without a group', { workflow: 'x', 'b.workflow': 'y' }, 'workflow'],
      ['a group of compare', { 'baseline.workflow': 'x' }, 'baseline.workflow'],
      ['a bad group filter', { 'a.source': 'robot' }, 'a.source'],
      ['a bad instant', { 'b.from': 'yesterday' }, 'b.from'],
      ['alpha, which agreement has not', { alpha: '0.1' }, 'alpha'],
      ['no filters, a equal to b', {}, 'b'],
      ['a equal to b', { 'a.workflow': 'x', 'b.workflow': 'x' }, 'b'],
      [
        'a equal to b, instants written differently',
        { 'a.from': '2026-01-01T01:00:00+01:00', 'b.from': '2026-01-01T00:00:00Z' },
        'b',
      ],
    ])('%s is a 400', async (_why, query, field) => {
      const res = await agreement(label.id, query);
      expectValidationFailed(res, field);
    });

    it('groups without pairs give nulls, not an error', async () => {
      const continuous = await createLabel(t.http, {
        value_type: 'continuous',
        min_value: 0,
        max_value: 1,
      });
      const res = await agreement(continuous.id, { 'a.workflow': 'none', 'b.workflow': 'nil' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        n_pairs: 0,
        r: { estimate: null, ci95: null },
        rho: null,
        mae: null,
        rmse: null,
        mean_difference: null,
        limits_of_agreement: null,
      });
    });

    it("another account's label, and a missing one, are 404", async () => {
      for (const [id, auth] of [
        [label.id, bearer(token({ account: 'globex' }))],
        [randomUUID(), bearer()],
      ] as const) {
        const res = await t.http
          .get(`/v1/evaluation-label/${id}/agreement`)
          .query(BY_ALICE_AND_BOB)
          .set(auth);
        expect([res.status, res.body.code]).toEqual([404, 'not_found']);
      }
    });
  });
});
