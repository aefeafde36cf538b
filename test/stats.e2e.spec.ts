import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { expectClose } from './support/close-to.js';
import { type Created, createEvaluation, createLabel, createRun } from './support/factories.js';
import { type LabelDef, otherValue } from './support/labels.js';
import { expectValidationFailed } from './support/validation.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/stats/${name}`, import.meta.url), 'utf8'));
const DATASETS = fixture('datasets.json') as {
  stats: { name: string; label: LabelDef; values: number[] }[];
  compare: { name: string; label: LabelDef; baseline: number[]; candidate: number[] }[];
};
const REFERENCE = fixture('reference.json') as {
  stats: Record<string, unknown>;
  compare: Record<string, unknown>;
};

describe.each(DATABASES)('statistics on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const stats = (labelId: string, query = '', auth = bearer()) =>
    t.http.get(`/v1/evaluation-label/${labelId}/stats${query}`).set(auth);

  /**
   * Records `values` on a new run of `workflow`, the way they come to be in practice: the
   * first one written with another value and then corrected by PUT, and one more
   * evaluation written and deleted. Only the current values may count.
   */
  async function record(label: Created & LabelDef, workflow: string, values: number[]) {
    const run = await createRun(t.http, { workflow });
    const post = (value: number) =>
      createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value });
    for (const [i, value] of values.entries()) {
      if (i > 0) {
        await post(value);
        continue;
      }
      const e = await post(otherValue(label, value));
      const put = await t.http
        .put(`/v1/run/${run.id}/evaluation/${e.id}`)
        .set(bearer())
        .send({ value });
      expect(put.status).toBe(200);
    }
    const gone = await post(
      values[0] ?? otherValue(label, label.value_type === 'continuous' ? 1 : 0),
    );
    const del = await t.http.delete(`/v1/run/${run.id}/evaluation/${gone.id}`).set(bearer());
    expect(del.status).toBe(204);
    return run;
  }

  describe('figures match SciPy on the fixture datasets', () => {
    it.each(DATASETS.stats.map((d) => [d.name, d] as const))('%s', async (name, d) => {
      const label = (await createLabel(t.http, d.label)) as Created & LabelDef;
      await record(label, `stats ${name}`, d.values);
      const res = await stats(label.id);
      expect(res.status).toBe(200);
      expect(res.body.label).toMatchObject({ id: label.id, value_type: d.label.value_type });
      expect(res.body.groups).toHaveLength(1);
      const [group] = res.body.groups;
      expect(group).toMatchObject({ key: {}, bucket: null });
      expectClose(group, REFERENCE.stats[name]);
      // No figure of another value type, and none missing.
      const expectedKeys = Object.keys(REFERENCE.stats[name] as object).concat(
        'key',
        'bucket',
        'label_versions',
        'warnings',
      );
      expect(Object.keys(group).sort()).toEqual(expectedKeys.sort());
      // One version of the label's scale, or none without evaluations.
      expect([group.label_versions, group.warnings]).toEqual([d.values.length ? [1] : [], []]);
    });
  });

  describe('comparisons match SciPy on the fixture datasets', () => {
    it.each(DATASETS.compare.map((d) => [d.name, d] as const))('%s', async (name, d) => {
      const label = (await createLabel(t.http, d.label)) as Created & LabelDef;
      const tag = randomUUID();
      await record(label, `baseline ${tag}`, d.baseline);
      await record(label, `candidate ${tag}`, d.candidate);
      const res = await t.http
        .get(`/v1/evaluation-label/${label.id}/compare`)
        .query({ 'baseline.workflow': `baseline ${tag}`, 'candidate.workflow': `candidate ${tag}` })
        .set(bearer());
      expect(res.status).toBe(200);
      expect(res.body.alpha).toBe(0.05);
      expectClose(res.body, REFERENCE.compare[name]);
    });

    it('alpha decides the verdict; higher_is_better decides its direction', async () => {
      const d = DATASETS.compare.find((c) => c.name === 'continuous, candidate better')!;
      const label = await createLabel(t.http, d.label);
      const tag = randomUUID();
      await record(label as Created & LabelDef, `b ${tag}`, d.baseline);
      await record(label as Created & LabelDef, `c ${tag}`, d.candidate);
      const compare = (alpha?: string) =>
        t.http
          .get(`/v1/evaluation-label/${label.id}/compare`)
          .query({
            'baseline.workflow': `b ${tag}`,
            'candidate.workflow': `c ${tag}`,
            ...(alpha ? { alpha } : {}),
          })
          .set(bearer());
      const p = (REFERENCE.compare[d.name] as { test: { p_value: number } }).test.p_value;
      expect((await compare()).body.verdict).toBe('improved');
      const strict = await compare(String(p / 2));
      expect([strict.body.alpha, strict.body.verdict]).toEqual([p / 2, 'no_detectable_change']);
      const patch = await t.http
        .patch(`/v1/evaluation-label/${label.id}`)
        .set(bearer())
        .send({ higher_is_better: false });
      expect([patch.status, patch.body.higher_is_better]).toEqual([200, false]);
      expect((await compare()).body.verdict).toBe('regressed');
    });
  });

  it('groups by key and UTC bucket, with from/to half-open', async () => {
    const label = await createLabel(t.http, { value_type: 'binary' });
    const runA = await createRun(t.http, { workflow: 'A', status: 'succeeded' });
    const runB = await createRun(t.http, { workflow: 'B', status: 'failed' });
    const evaluator = randomUUID();
    const rows: [Created, number, string, string | null][] = [
      [runA, 1, '2026-03-01T23:59:59.999Z', null],
      [runA, 0, '2026-03-02T00:00:00.000Z', null],
      [runA, 1, '2026-03-02T12:00:00.000Z', evaluator],
      [runB, 1, '2026-03-02T13:00:00.000Z', null],
      [runB, 1, '2026-03-09T00:00:00.000Z', evaluator],
    ];
    for (const [run, value, at, by] of rows) {
      await t.dataSource.query(
        `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value, created_by,
           created_by_evaluator_id, created_at, updated_at, label_version)
         VALUES ($1, 'acme', $2, $3, $4, $5, $6, $7, $7, 1)`,
        [randomUUID(), run.id, label.id, value, by ? null : 'alice', by, at],
      );
    }
    const groups = async (query: string) => {
      const res = await stats(label.id, query);
      expect(res.status).toBe(200);
      return res.body.groups.map((g: { key: object; bucket: string; n: number; rate: number }) => [
        g.key,
        g.bucket,
        g.n,
        g.rate,
      ]);
    };
    expect(await groups('?group_by=workflow,source&interval=day')).toEqual([
      [{ workflow: 'A', source: 'evaluator' }, '2026-03-02T00:00:00.000Z', 1, 1],
      [{ workflow: 'A', source: 'human' }, '2026-03-01T00:00:00.000Z', 1, 1],
      [{ workflow: 'A', source: 'human' }, '2026-03-02T00:00:00.000Z', 1, 0],
      [{ workflow: 'B', source: 'evaluator' }, '2026-03-09T00:00:00.000Z', 1, 1],
      [{ workflow: 'B', source: 'human' }, '2026-03-02T00:00:00.000Z', 1, 1],
    ]);
    // Weeks start on Monday (2026-03-02 is one), months on the 1st; hours at :00.
    expect(await groups('?interval=week')).toEqual([
      [{}, '2026-02-23T00:00:00.000Z', 1, 1],
      [{}, '2026-03-02T00:00:00.000Z', 3, 2 / 3],
      [{}, '2026-03-09T00:00:00.000Z', 1, 1],
    ]);
    expect(await groups('?interval=month')).toEqual([[{}, '2026-03-01T00:00:00.000Z', 5, 0.8]]);
    expect((await groups('?interval=hour')).map((g: unknown[]) => g[1])).toEqual([
      '2026-03-01T23:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
      '2026-03-02T12:00:00.000Z',
      '2026-03-02T13:00:00.000Z',
      '2026-03-09T00:00:00.000Z',
    ]);
    expect(await groups(`?group_by=evaluator,created_by`)).toEqual([
      [{ evaluator: evaluator, created_by: null }, null, 2, 1],
      [{ evaluator: null, created_by: 'alice' }, null, 3, 2 / 3],
    ]);
    // [from, to): the first instant counts, the last does not; offsets are honoured.
    const range = '?from=2026-03-02T00:00:00Z&to=2026-03-09T01:00:00%2B01:00';
    expect(await groups(range)).toEqual([[{}, null, 3, 2 / 3]]);
    expect(await groups('?workflow=B')).toEqual([[{}, null, 2, 1]]);
    expect(await groups('?run_status=succeeded&source=human')).toEqual([[{}, null, 2, 0.5]]);
    expect(await groups(`?created_by_evaluator_id=${evaluator}`)).toEqual([[{}, null, 2, 1]]);
    expect(await groups('?created_by=alice&output_name=none')).toEqual([[{}, null, 0, null]]);
    // Grouped, no evaluation means no group; ungrouped, one group with n = 0.
    expect(await groups('?group_by=workflow&workflow=C')).toEqual([]);
  });

  it('summarises a run per label, with the figures of /stats', async () => {
    const continuous = DATASETS.stats.find((d) => d.name === 'continuous with ties')!;
    const ordinal = DATASETS.stats.find((d) => d.name === 'ordinal with an unused category')!;
    const first = (await createLabel(t.http, continuous.label)) as Created & LabelDef;
    const second = (await createLabel(t.http, ordinal.label)) as Created & LabelDef;
    const unused = await createLabel(t.http, { value_type: 'binary' });
    const run = await record(first, 'summary', continuous.values);
    for (const value of ordinal.values) {
      await createEvaluation(t.http, run.id, { evaluation_label_id: second.id, value });
    }
    const elsewhere = await createRun(t.http);
    await createEvaluation(t.http, elsewhere.id, { evaluation_label_id: unused.id, value: 1 });
    const res = await t.http.get(`/v1/run/${run.id}/evaluations/summary`).set(bearer());
    expect(res.status).toBe(200);
    expect(res.body.run_id).toBe(run.id);
    expect(res.body.labels.map((l: { label: { id: string } }) => l.label.id)).toEqual([
      first.id,
      second.id,
    ]);
    expectClose(res.body.labels[0], REFERENCE.stats[continuous.name]);
    expectClose(res.body.labels[1], REFERENCE.stats[ordinal.name]);

    const empty = await createRun(t.http);
    const none = await t.http.get(`/v1/run/${empty.id}/evaluations/summary`).set(bearer());
    expect(none.body).toEqual({ run_id: empty.id, labels: [] });
    const theirs = await t.http
      .get(`/v1/run/${run.id}/evaluations/summary`)
      .set(bearer(token({ account: 'globex' })));
    expect([theirs.status, theirs.body.code]).toEqual([404, 'not_found']);
  });

  it('counts a continuous label per bin of its range, and values an earlier version allowed apart', async () => {
    const label = await createLabel(t.http, {
      value_type: 'continuous',
      min_value: 0,
      max_value: 10,
    });
    const run = await createRun(t.http, { workflow: 'binned' });
    for (const value of [0, 0.5, 1, 9.99, 10])
      await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value });
    const bin = (from: number, to: number, n: number) => ({ from, to, n });
    const before = (await stats(label.id)).body.groups[0].histogram;
    expect(before).toEqual({
      bins: [
        bin(0, 1, 2),
        ...[1, 2, 3, 4, 5, 6, 7, 8].map((k) => bin(k, k + 1, k === 1 ? 1 : 0)),
        bin(9, 10, 2),
      ],
      outside: 0,
    });
    // Narrowed to [0, 5] (version 2): 9.99 and 10 lie outside the bins now.
    const narrowed = await t.http
      .patch(`/v1/evaluation-label/${label.id}`)
      .set(bearer())
      .send({ max_value: 5 });
    expect(narrowed.status).toBe(200);
    const after = (await stats(label.id, '?group_by=workflow')).body.groups[0].histogram;
    expect(after.outside).toBe(2);
    expect(after.bins.map((b: { n: number }) => b.n)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(after.bins[9]).toEqual(bin(4.5, 5, 0));
    // Comparisons leave it out: their figures stay as they were.
    const compare = await t.http
      .get(`/v1/evaluation-label/${label.id}/compare?candidate.workflow=binned`)
      .set(bearer());
    expect(compare.body.baseline.histogram).toBeUndefined();
  });

  describe('bad input gets the one error body', () => {
    let label: Created;
    beforeAll(async () => {
      label = await createLabel(t.http, { value_type: 'binary' });
    });

    it.each([
      ['an unknown group_by key', '/stats?group_by=workflow,colour', 'group_by'],
      ['an empty group_by key', '/stats?group_by=workflow,', 'group_by'],
      ['from after to', '/stats?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
      ['from equal to to', '/stats?from=2026-03-02T00:00:00Z&to=2026-03-02T00:00:00Z', 'from'],
      ['a bad interval', '/stats?interval=fortnight', 'interval'],
      ['a date without a time zone', '/stats?from=2026-03-02T00:00:00', 'from'],
      ['a date that is not one', '/stats?to=yesterday', 'to'],
      ['an unknown run_status', '/stats?run_status=done', 'run_status'],
      ['an unknown source', '/stats?source=robot', 'source'],
      ['a bad evaluator id', '/stats?created_by_evaluator_id=42', 'created_by_evaluator_id'],
      ['a repeated filter', '/stats?workflow=a&workflow=b', 'workflow'],
      ['an unknown filter', '/stats?colour=red', 'colour'],
      ['a bad alpha', '/compare?alpha=1', 'alpha'],
      ['a zero alpha', '/compare?alpha=0', 'alpha'],
      ['a non-number alpha', '/compare?alpha=five%25', 'alpha'],
      ['an unknown compare parameter', '/compare?baseline.colour=red', 'baseline.colour'],
      ['a filter without a group', '/compare?workflow=a', 'workflow'],
      ['a bad group filter', '/compare?candidate.interval=day', 'candidate.interval'],
      [
        'a group whose from is after its to',
        '/compare?baseline.from=2026-03-02T00:00:00Z&baseline.to=2026-01-01T00:00:00Z',
        'baseline.from',
      ],
      ['a bad group source', '/compare?candidate.source=robot', 'candidate.source'],
    ])('%s is a 400', async (_why, path, field) => {
      const res = await t.http.get(`/v1/evaluation-label/${label.id}${path}`).set(bearer());
      expectValidationFailed(res, field);
    });

    it("another account's label, and a missing one, are 404", async () => {
      const globex = bearer(token({ account: 'globex' }));
      for (const path of ['stats', 'compare']) {
        for (const [id, auth] of [
          [label.id, globex],
          [randomUUID(), bearer()],
        ] as const) {
          const res = await t.http.get(`/v1/evaluation-label/${id}/${path}`).set(auth);
          expect([res.status, res.body.code]).toEqual([404, 'not_found']);
          expect(res.body.request_id).toEqual(expect.any(String));
        }
      }
      const bad = await t.http.get('/v1/evaluation-label/nope/stats').set(bearer());
      expect([bad.status, bad.body.code]).toEqual([400, 'invalid_path_parameter']);
    });
  });

  describe('higher_is_better', () => {
    it('defaults to true, is null for categorical labels, and may always change', async () => {
      const binary = await createLabel(t.http, { value_type: 'binary' });
      expect(binary.higher_is_better).toBe(true);
      const lower = await createLabel(t.http, { value_type: 'binary', higher_is_better: false });
      expect(lower.higher_is_better).toBe(false);
      const categorical = await createLabel(t.http, {
        value_type: 'categorical',
        categories: ['a', 'b'],
      });
      expect(categorical.higher_is_better).toBeNull();
      const refused = await t.http
        .post('/v1/evaluation-labels')
        .set(bearer())
        .send({
          name: randomUUID(),
          value_type: 'categorical',
          categories: ['a', 'b'],
          higher_is_better: true,
        });
      expect([refused.status, refused.body.code]).toEqual([422, 'invalid_label_definition']);
      const notBoolean = await t.http
        .post('/v1/evaluation-labels')
        .set(bearer())
        .send({ name: randomUUID(), value_type: 'binary', higher_is_better: 'yes' });
      expect(notBoolean.status).toBe(400);

      // In use, the definition is fixed, but the direction still changes.
      const run = await createRun(t.http);
      await createEvaluation(t.http, run.id, { evaluation_label_id: binary.id, value: 1 });
      const patch = (id: string, body: object) =>
        t.http.patch(`/v1/evaluation-label/${id}`).set(bearer()).send(body);
      const flipped = await patch(binary.id, { higher_is_better: false });
      expect([flipped.status, flipped.body.higher_is_better]).toEqual([200, false]);
      const kept = await patch(binary.id, { name: `renamed ${randomUUID()}` });
      expect(kept.body.higher_is_better).toBe(false);
      const reset = await patch(binary.id, { higher_is_better: null });
      expect(reset.body.higher_is_better).toBe(true);
      const nowCategorical = await patch(lower.id, {
        value_type: 'categorical',
        categories: ['x', 'y'],
      });
      expect([nowCategorical.status, nowCategorical.body.higher_is_better]).toEqual([200, null]);
      const back = await patch(lower.id, { value_type: 'binary', categories: null });
      expect([back.status, back.body.higher_is_better]).toEqual([200, true]);
      const stillCategorical = await patch(categorical.id, { higher_is_better: false });
      expect(stillCategorical.status).toBe(422);
    });
  });

  if (db.name === 'PostgreSQL') {
    it('a statistics query past DB_STATS_TIMEOUT is a 503 that says how to narrow it', async () => {
      const slow = await startApp(db, { DB_STATS_TIMEOUT: '0.3' });
      try {
        const label = await createLabel(slow.http, { value_type: 'binary' });
        // Another session holds the table: the statistics query waits for it until its timeout.
        const runner = slow.dataSource.createQueryRunner();
        await runner.startTransaction();
        await runner.query('LOCK TABLE run_evaluations IN ACCESS EXCLUSIVE MODE');
        try {
          const started = Date.now();
          const res = await slow.http.get(`/v1/evaluation-label/${label.id}/stats`).set(bearer());
          expect(Date.now() - started).toBeLessThan(5000);
          expect(res.status).toBe(503);
          expect(res.headers['retry-after']).toBeDefined();
          expect(res.body).toMatchObject({ code: 'statistics_timeout' });
          expect(res.body.error).toMatch(/DB_STATS_TIMEOUT.*narrower.*from–to/s);
        } finally {
          await runner.rollbackTransaction();
          await runner.release();
        }
        const after = await slow.http.get(`/v1/evaluation-label/${label.id}/stats`).set(bearer());
        expect(after.status).toBe(200);
      } finally {
        await slow.close();
      }
    });
  }
});
