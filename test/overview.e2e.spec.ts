import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { type Created, createEvaluator, createLabel, createRun } from './support/factories.js';
import { expectValidationFailed } from './support/validation.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Five days of evaluations, Monday to Friday, in UTC. */
const DAY = 86_400_000;
const MONDAY = Date.UTC(2026, 2, 2);
const at = (day: number, hour: number) => new Date(MONDAY + day * DAY + hour * 3_600_000);

/** Each value type with a first scale and a breaking change that makes version 2. */
const LABELS: { name: string; def: Json; v2: Json; value: (i: number, day: number) => number }[] = [
  {
    name: 'binary',
    def: { value_type: 'binary' },
    v2: {},
    // A rate that falls on the last day.
    value: (i, day) => (day === 4 ? Number(i % 4 === 0) : Number(i % 3 !== 0)),
  },
  {
    name: 'continuous',
    def: { value_type: 'continuous', min_value: 0, max_value: 10 },
    v2: { max_value: 5 },
    value: (i, day) => Math.max(0, ((i * 7 + day * 3) % 11) / 2 - (day === 4 ? 1.5 : 0)),
  },
  {
    name: 'ordinal',
    def: { value_type: 'ordinal', categories: ['bad', 'ok', 'good'] },
    v2: { categories: ['bad', 'ok', 'good', 'great'] },
    value: (i, day) => (i + day) % 3,
  },
  {
    name: 'categorical',
    def: { value_type: 'categorical', categories: ['spam', 'ham', 'eggs'] },
    v2: { categories: ['spam', 'ham', 'bacon'] },
    value: (i, day) => (i * day + i) % 3,
  },
];

describe.each(DATABASES)('the overview of labels on $name', (db) => {
  let t: TestApp;
  const account = `overview-${randomUUID()}`;
  const alice = bearer(token({ account }));
  const bob = bearer(token({ account, sub: 'bob' }));
  let judge: ReturnType<typeof bearer>;
  const labels = new Map<string, Created>();
  let empty: Created;
  /** Per label, the evaluations still there. */
  const current = new Map<string, number>();

  beforeAll(async () => {
    t = await startApp(db);
    const evaluator = await createEvaluator(t.http, {}, alice);
    judge = bearer(token({ account, sub: 'judge', evaluator: evaluator.id }));
    const runs = {
      A: await createRun(t.http, { workflow: 'A', status: 'succeeded' }, alice),
      B: await createRun(t.http, { workflow: 'B' }, alice),
    };
    const placed: [string, Date][] = [];
    /** Posts one batch and says when each of its evaluations was created. */
    const post = async (auth: Record<string, string>, items: Json[], when: Date[]) => {
      const res = await t.http.post('/v1/evaluations/batch').set(auth).send({ items });
      expect([res.status, res.body]).toEqual([201, expect.any(Array)]);
      (res.body as Json[]).forEach((e, i) => placed.push([e.id, when[i]]));
      return res.body as Json[];
    };
    for (const { name, def, v2, value } of LABELS) {
      const label = await createLabel(t.http, { name, ...def }, alice);
      labels.set(name, label);
      const phase = async (
        days: number[],
        perDay: number,
        auth: Record<string, Record<string, string>>,
      ) => {
        const written: Json[] = [];
        for (const workflow of ['A', 'B'] as const) {
          const items: Json[] = [];
          const when: Date[] = [];
          for (const day of days) {
            for (let i = 0; i < perDay; i++) {
              const output_name = i % 2 ? 'answer' : 'summary';
              items.push({
                run_id: runs[workflow].id,
                evaluation_label_id: label.id,
                value: value(i + (workflow === 'B' ? 1 : 0), day),
                output_name,
              });
              when.push(at(day, 1 + i * 5 + (workflow === 'B' ? 2 : 0)));
            }
          }
          written.push(...(await post(auth[workflow], items, when)));
        }
        return written;
      };
      const first = await phase([0, 1, 2, 3, 4], 4, { A: alice, B: bob });
      if (Object.keys(v2).length) {
        const res = await t.http.patch(`/v1/evaluation-label/${label.id}`).set(alice).send(v2);
        expect([res.status, res.body.version]).toEqual([200, 2]);
      }
      const second = await phase([2, 3, 4], 2, { A: alice, B: judge });
      // One evaluation corrected, one deleted: only current values count.
      const [fixed, gone] = [first[1], second[0]];
      const put = await t.http
        .put(`/v1/run/${fixed.run_id}/evaluation/${fixed.id}`)
        .set(alice)
        .send({ value: value(0, 0) });
      expect(put.status).toBe(200);
      const del = await t.http.delete(`/v1/run/${gone.run_id}/evaluation/${gone.id}`).set(alice);
      expect(del.status).toBe(204);
      current.set(label.id, first.length + second.length - 1);
    }
    empty = await createLabel(t.http, { name: 'never used' }, alice);
    // The creation times the scenario needs, written straight into the table.
    const values = placed.map(
      ([id, when]) => `('${id}'::uuid, '${when.toISOString()}'::timestamptz)`,
    );
    await t.dataSource.query(
      `UPDATE run_evaluations e SET created_at = v.at, updated_at = v.at
         FROM (VALUES ${values.join(', ')}) AS v(id, at) WHERE e.id = v.id`,
    );
    // Another account's label and evaluations, which no answer here may show.
    const other = bearer(token({ account: `${account}-other` }));
    const theirs = await createLabel(t.http, { name: 'binary', value_type: 'binary' }, other);
    const theirRun = await createRun(t.http, { workflow: 'A' }, other);
    await t.http
      .post('/v1/evaluations/batch')
      .set(other)
      .send({ items: [{ run_id: theirRun.id, evaluation_label_id: theirs.id, value: 1 }] })
      .expect(201);
  });
  afterAll(() => t.close());

  const overview = async (query: Json) => {
    const res = await t.http.get('/v1/evaluation-labels/stats').query(query).set(alice);
    expect(res.status).toBe(200);
    return res.body as { items: Json[]; next: string | null };
  };
  const get = async (path: string, query: Json) => {
    const res = await t.http.get(path).query(query).set(alice);
    expect(res.status).toBe(200);
    return res.body as Json;
  };
  /** A group of /stats as the overview gives its figures: no key, bucket or histogram. */
  const withoutGroup = ({ key, bucket, histogram, ...figures }: Json) => (
    void key,
    void bucket,
    void histogram,
    figures
  );
  /**
   * Every number to 12 significant digits: PostgreSQL adds floating-point values in the
   * order it reads the rows, which one statement over many labels and one over a label may
   * not share (the last bits of a standard deviation differ). Keys, counts, strings and
   * nulls must be equal as they are.
   */
  const same = (value: unknown): unknown =>
    typeof value === 'number'
      ? Number(value.toPrecision(12))
      : Array.isArray(value)
        ? value.map(same)
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, same(v)]))
          : value;

  /** The headline of a group of /stats, as the overview must say it. */
  function headline(def: Json, group: Json): Json {
    switch (def.value_type) {
      case 'binary':
        return { rate: group.rate, ci95: group.ci95 };
      case 'continuous':
        return { mean: group.mean, ci95: group.ci95 };
      case 'ordinal':
        return { median: group.median, ci95: null };
      default: {
        const counts = Object.entries(group.counts as Record<string, number>);
        const top = Math.max(...counts.map(([, n]) => n));
        return { mode: group.n ? counts.find(([, n]) => n === top)![0] : null, ci95: null };
      }
    }
  }

  const FILTERS: [string, Json][] = [
    ['no filter', {}],
    ['one workflow', { workflow: 'A' }],
    [
      'from in a bucket, to before the last day',
      { from: '2026-03-03T12:00:00Z', to: '2026-03-06T00:00:00Z' },
    ],
    ['an evaluator', { source: 'evaluator' }],
    [
      'a person, an output, a run status',
      { created_by: 'alice', output_name: 'answer', run_status: 'succeeded' },
    ],
    ['by week: one bucket, no baseline', { interval: 'week' }],
    ['by hour, until Wednesday', { interval: 'hour', to: '2026-03-04T00:00:00Z' }],
  ];

  it.each(FILTERS)(
    'every figure, bucket and direction is what /stats and /compare answer: %s',
    async (_, { interval = 'day', ...filters }) => {
      const page = await overview({ ...filters, interval });
      expect(page.items.map((i) => i.label.name)).toEqual([...labels.keys(), 'never used']);
      expect(page.next).toBeNull();
      for (const item of page.items) {
        const def = LABELS.find((l) => l.name === item.label.name)?.def ?? {
          value_type: 'continuous',
        };
        const statsUrl = `/v1/evaluation-label/${item.label.id}/stats`;
        const whole = await get(statsUrl, filters);
        expect(item.label).toEqual(whole.label);
        expect(same(item.figures)).toEqual(same(withoutGroup(whole.groups[0])));
        expect(same(item.headline)).toEqual(same(headline(def, whole.groups[0])));
        const buckets = (await get(statsUrl, { ...filters, interval })).groups as Json[];
        expect(same(item.trend)).toEqual(
          same(
            buckets.map((g) => ({
              bucket: g.bucket,
              n: g.n,
              ...headline(def, g),
              ...(g.counts ? { counts: g.counts } : {}),
            })),
          ),
        );
        const { baseline, candidate, verdict, p_value } = item.direction;
        if (buckets.length === 0) {
          expect(item.direction).toEqual({
            verdict: 'insufficient_data',
            p_value: null,
            baseline: null,
            candidate: null,
          });
          continue;
        }
        const last = buckets[buckets.length - 1].bucket as string;
        const start = filters.from ? new Date(filters.from).toISOString() : buckets[0].bucket;
        const cut = start > last ? start : last;
        expect(candidate.from).toBe(cut);
        expect(candidate.to).toBe(
          filters.to
            ? new Date(filters.to).toISOString()
            : new Date(
                Date.parse(last) +
                  (interval === 'hour' ? 3_600_000 : interval === 'week' ? 7 * DAY : DAY),
              ).toISOString(),
        );
        expect(baseline).toEqual(start < cut ? { from: start, to: cut } : null);
        if (!baseline) {
          expect([verdict, p_value]).toEqual(['insufficient_data', null]);
          continue;
        }
        const sides: Json = {};
        for (const [side, range] of [
          ['baseline', baseline],
          ['candidate', candidate],
        ] as const) {
          for (const [k, v] of Object.entries({ ...filters, ...range })) sides[`${side}.${k}`] = v;
        }
        const compare = await get(`/v1/evaluation-label/${item.label.id}/compare`, sides);
        expect(same({ verdict, p_value })).toEqual(
          same({ verdict: compare.verdict, p_value: compare.test?.p_value ?? null }),
        );
      }
    },
  );

  it('covers what the scenario means to: mixed versions, real verdicts, deletions', async () => {
    const { items } = await overview({});
    const byName = new Map(items.map((i) => [i.label.name, i]));
    for (const [name, label] of labels) {
      expect(byName.get(name)!.figures.n).toBe(current.get(label.id));
    }
    expect(byName.get('continuous')!.figures).toMatchObject({
      label_versions: [1, 2],
      warnings: ['mixed_label_versions'],
    });
    expect(byName.get('binary')!.trend).toHaveLength(5);
    // Some direction is decided by a test, not only by a lack of data.
    expect(items.some((i) => typeof i.direction.p_value === 'number')).toBe(true);
    expect(byName.get('never used')).toEqual({
      label: expect.objectContaining({ id: empty.id }),
      figures: {
        n: 0,
        mean: null,
        stddev: null,
        min: null,
        max: null,
        p50: null,
        p90: null,
        ci95: null,
        label_versions: [],
        warnings: [],
      },
      headline: { mean: null, ci95: null },
      trend: [],
      direction: { verdict: 'insufficient_data', p_value: null, baseline: null, candidate: null },
    });
  });

  it("shows only the account's own labels", async () => {
    const other = bearer(token({ account: `${account}-other` }));
    const mine = (await overview({})).items.map((i) => i.label.account_id);
    expect(new Set(mine)).toEqual(new Set([account]));
    const res = await t.http.get('/v1/evaluation-labels/stats').set(other);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: Json) => [i.label.account_id, i.figures.n])).toEqual([
      [`${account}-other`, 1],
    ]);
  });

  it('pages like the list of labels; archived labels only when asked', async () => {
    const first = await t.http.get('/v1/evaluation-labels/stats').query({ limit: 2 }).set(alice);
    expect(first.status).toBe(200);
    const list = await t.http.get('/v1/evaluation-labels').query({ limit: 2 }).set(alice);
    expect(first.body.items.map((i: Json) => i.label.id)).toEqual(list.body.map((l: Json) => l.id));
    // The same cursor as the list's, in the body and in the Link header.
    expect(list.headers.link).toContain(`cursor=${first.body.next}>`);
    expect(first.headers.link).toBe(
      `</v1/evaluation-labels/stats?limit=2&cursor=${first.body.next}>; rel="next"`,
    );
    const rest = await overview({ cursor: first.body.next });
    expect(rest.items.map((i) => i.label.name)).toEqual(['ordinal', 'categorical', 'never used']);

    const archived = await createLabel(t.http, { name: 'archived' }, alice);
    const run = await createRun(t.http, {}, alice);
    await t.http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(alice)
      .send({ evaluation_label_id: archived.id, value: 1 })
      .expect(201);
    await t.http.delete(`/v1/evaluation-label/${archived.id}`).set(alice).expect(204);
    expect((await overview({})).items.map((i) => i.label.id)).not.toContain(archived.id);
    const all = await overview({ include_archived: 'true' });
    expect(all.items.find((i) => i.label.id === archived.id)?.figures.n).toBe(1);
  });

  it.each([
    ['label_version', { label_version: '1' }],
    ['group_by', { group_by: 'workflow' }],
    ['interval', { interval: 'year' }],
    ['from', { from: 'yesterday' }],
    ['from', { from: '2026-03-04T00:00:00Z', to: '2026-03-03T00:00:00Z' }],
    ['source', { source: 'robot' }],
    ['limit', { limit: '0' }],
    ['include_archived', { include_archived: 'maybe' }],
  ])('refuses a bad %s with a 400', async (field, query) => {
    const res = await t.http.get('/v1/evaluation-labels/stats').query(query).set(alice);
    expectValidationFailed(res, field);
  });

  it('refuses a cursor it did not make', async () => {
    const res = await t.http
      .get('/v1/evaluation-labels/stats')
      .query({ cursor: 'nope' })
      .set(alice);
    expect([res.status, res.body.code]).toEqual([400, 'invalid_cursor']);
  });
});
