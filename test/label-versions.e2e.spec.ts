import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { type Created, createEvaluation, createLabel, createRun } from './support/factories.js';
import { until } from './support/until.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(DATABASES)('label versions on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const labelUrl = (label: Created) => `/v1/evaluation-label/${label.id}`;
  const patch = (label: Created, body: object, query = '', auth = bearer()) =>
    t.http
      .patch(`${labelUrl(label)}${query}`)
      .set(auth)
      .send(body);
  const versions = async (label: Created, auth = bearer()) => {
    const res = await t.http.get(`${labelUrl(label)}/versions`).set(auth);
    expect(res.status).toBe(200);
    return res.body as Json[];
  };
  /** A label with one evaluation on it: every PATCH of its scale is then a used label's. */
  async function usedLabel(def: Json, value: number, auth = bearer()) {
    const label = await createLabel(t.http, def, auth);
    const run = await createRun(t.http, {}, auth);
    const evaluation = await createEvaluation(
      t.http,
      run.id,
      { evaluation_label_id: label.id, value },
      auth,
    );
    return { label, run, evaluation };
  }
  const across = async (query: string, auth = bearer()) => {
    const res = await t.http.get(`/v1/evaluations${query}`).set(auth);
    expect(res.status).toBe(200);
    return res.body as Json[];
  };

  const continuous = { value_type: 'continuous', min_value: 0, max_value: 10 };
  const categorical = { value_type: 'categorical', categories: ['red', 'green'] };
  const ordinal = { value_type: 'ordinal', categories: ['low', 'mid', 'high'] };
  const rgb = { value_type: 'categorical', categories: ['red', 'green', 'blue'] };

  it.each([
    ['the name', continuous, { name: `renamed-${randomUUID()}` }],
    ['the description', continuous, { description: 'what it measures' }],
    ['higher_is_better', continuous, { higher_is_better: false }],
    ['a wider range', continuous, { min_value: -5, max_value: 20 }],
    ['the same range', continuous, { min_value: 0, max_value: 10 }],
    [
      'a category added at the end of a categorical label',
      categorical,
      { categories: ['red', 'green', 'blue'] },
    ],
  ])('a compatible change keeps the version: %s', async (_, def, change) => {
    const { label } = await usedLabel(def, 1);
    const res = await patch(label, change);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...change, version: 1 });
    // The one version takes the widened scale: every value it allowed still fits.
    const [only, ...more] = await versions(label);
    expect(more).toEqual([]);
    expect(only).toMatchObject({
      version: 1,
      value_type: res.body.value_type,
      min_value: res.body.min_value,
      max_value: res.body.max_value,
      categories: res.body.categories,
      evaluation_count: 1,
    });
  });

  it.each([
    ['a range made narrower', continuous, { max_value: 5 }],
    ['a range moved', continuous, { min_value: 1, max_value: 11 }],
    ['a category removed', rgb, { categories: ['red', 'green'] }],
    ['a category renamed', categorical, { categories: ['red', 'lime'] }],
    ['categories reordered', categorical, { categories: ['green', 'red'] }],
    [
      'a category added to an ordinal scale',
      ordinal,
      { categories: ['low', 'mid', 'high', 'top'] },
    ],
    ['another value_type', categorical, { value_type: 'ordinal' }],
    ['binary to continuous', { value_type: 'binary' }, continuous],
  ])('a breaking change makes the next version: %s', async (_, def, change) => {
    const { label, evaluation } = await usedLabel(def, 1);
    const before = (await t.http.get(labelUrl(label)).set(bearer())).body;
    const res = await patch(label, change);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...change, version: 2 });
    const [first, second] = await versions(label);
    expect(first).toMatchObject({
      version: 1,
      value_type: before.value_type,
      min_value: before.min_value,
      max_value: before.max_value,
      categories: before.categories,
      created_by: 'alice',
      evaluation_count: 1,
    });
    expect(second).toMatchObject({
      version: 2,
      value_type: res.body.value_type,
      categories: res.body.categories,
      evaluation_count: 0,
    });
    expect(Date.parse(second.created_at)).toBeGreaterThanOrEqual(Date.parse(first.created_at));
    // The stored evaluation is neither re-validated nor rewritten.
    const [stored] = await across(`?evaluation_label_id=${label.id}`);
    expect(stored).toMatchObject({ id: evaluation.id, value: 1, label_version: 1 });
  });

  it('a PATCH mixing compatible and breaking changes makes one new version', async () => {
    const { label } = await usedLabel(continuous, 2);
    const res = await patch(label, { name: `mixed-${randomUUID()}`, min_value: -5, max_value: 8 });
    expect(res.body.version).toBe(2);
    expect((await versions(label)).map((v) => v.version)).toEqual([1, 2]);
    const again = await patch(label, { max_value: 6 });
    expect(again.body.version).toBe(3);
  });

  it('new evaluations are checked against the current version; PUT moves one to it, and history shows both', async () => {
    const { label, run, evaluation } = await usedLabel(continuous, 8);
    expect((await patch(label, { max_value: 5 })).body.version).toBe(2);

    const refused = await t.http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(bearer())
      .send({ evaluation_label_id: label.id, value: 8 });
    expect([refused.status, refused.body.code]).toEqual([422, 'value_out_of_range']);
    expect(refused.body.error).toContain('from 0 to 5');
    const fresh = await createEvaluation(t.http, run.id, {
      evaluation_label_id: label.id,
      value: 4,
    });
    // The reference body is unchanged: no label_version in it.
    expect(fresh).not.toHaveProperty('label_version');

    const url = `/v1/run/${run.id}/evaluation/${evaluation.id}`;
    const stillEight = await t.http.get(url).set(bearer());
    expect([stillEight.body.value, stillEight.body.label_version]).toEqual([8, undefined]);
    const tooHigh = await t.http.put(url).set(bearer()).send({ value: 8 });
    expect([tooHigh.status, tooHigh.body.code]).toEqual([422, 'value_out_of_range']);
    const moved = await t.http.put(url).set(bearer()).send({ value: 5 });
    expect(moved.status).toBe(200);

    const history = (await t.http.get(`${url}/history`).set(bearer())).body as Json[];
    expect(
      history.map((c) => [
        c.operation,
        c.old_value,
        c.old_label_version,
        c.new_value,
        c.new_label_version,
      ]),
    ).toEqual([
      ['create', null, null, 8, 1],
      ['update', 8, 1, 5, 2],
    ]);
    const rows = await across(`?evaluation_label_id=${label.id}`);
    expect(rows.map((r) => [r.value, r.label_version])).toEqual([
      [5, 2],
      [4, 2],
    ]);
    expect((await versions(label)).map((v) => [v.version, v.evaluation_count])).toEqual([
      [1, 0],
      [2, 2],
    ]);
    await t.http.delete(url).set(bearer()).expect(204);
    const deleted = (await t.http.get(`${url}/history`).set(bearer())).body as Json[];
    expect(deleted.at(-1)).toMatchObject({
      operation: 'delete',
      old_value: 5,
      old_label_version: 2,
      new_value: null,
      new_label_version: null,
    });
  });

  it('exports carry each evaluation’s label_version', async () => {
    const { label, run } = await usedLabel(continuous, 9);
    await patch(label, { max_value: 5 });
    await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 1 });
    const ndjson = await t.http
      .get(`/v1/evaluations?evaluation_label_id=${label.id}`)
      .set({ ...bearer(), Accept: 'application/x-ndjson' });
    expect(
      ndjson.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).label_version),
    ).toEqual([1, 2]);
    const csv = await t.http
      .get(`/v1/evaluations?evaluation_label_id=${label.id}`)
      .set({ ...bearer(), Accept: 'text/csv' });
    const [header, ...lines] = csv.text.trim().split('\r\n');
    expect(header.split(',').at(-1)).toBe('label_version');
    expect(lines.map((l) => l.split(',').at(-1))).toEqual(['1', '2']);
  });

  describe('dry_run', () => {
    it('says what a change would do and how many current evaluations fall outside, writing nothing', async () => {
      const auth = bearer(token({ account: `dry-run-${randomUUID()}` }));
      const { label, run } = await usedLabel(continuous, 9, auth);
      for (const value of [0, 2, 6, 10]) {
        await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value }, auth);
      }
      const eventsOf = async () => {
        const res = await t.http.get('/v1/events').set({ ...auth, Accept: 'application/json' });
        return res.body as Json[];
      };
      // label.created, run.created, five evaluation.created
      await until(async () => (await eventsOf()).length === 7);
      const before = await t.http.get(labelUrl(label)).set(auth);
      const res = await patch(label, { min_value: 1, max_value: 8 }, '?dry_run=true', auth);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        new_version: true,
        version: 2,
        breaking_changes: ['min_value rises to 1', 'max_value falls to 8'],
        outside: { count: 3, by_reason: { above_max_value: 2, below_min_value: 1 } },
      });
      expect(res.headers.etag).toBeUndefined();
      // Nothing written: the label, its versions and the events are as they were.
      const after = await t.http.get(labelUrl(label)).set(auth);
      expect(after.body).toEqual(before.body);
      expect(after.headers.etag).toBe(before.headers.etag);
      expect(await versions(label, auth)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(await eventsOf()).toHaveLength(7);

      const compatible = await patch(label, { max_value: 12 }, '?dry_run=true', auth);
      expect(compatible.body).toEqual({
        new_version: false,
        version: 1,
        breaking_changes: [],
        outside: { count: 0, by_reason: {} },
      });
    });

    it('counts by the reasons of each value type', async () => {
      const { label } = await usedLabel(rgb, 2);
      const asBinary = await patch(
        label,
        { value_type: 'binary', categories: null },
        '?dry_run=true',
      );
      expect(asBinary.body.outside).toEqual({ count: 1, by_reason: { not_0_or_1: 1 } });
      const shorter = await patch(label, { categories: ['red', 'green'] }, '?dry_run=true');
      expect(shorter.body).toMatchObject({
        new_version: true,
        outside: { count: 1, by_reason: { not_a_category_index: 1 } },
      });
      const wide = await usedLabel(continuous, 7.5);
      const asOrdinal = await patch(
        wide.label,
        { value_type: 'ordinal', min_value: null, max_value: null, categories: ['a', 'b'] },
        '?dry_run=true',
      );
      expect(asOrdinal.body.outside).toEqual({ count: 1, by_reason: { not_a_category_index: 1 } });
      const asBinaryToo = await patch(
        wide.label,
        { value_type: 'binary', min_value: null, max_value: null },
        '?dry_run=true',
      );
      expect(asBinaryToo.body.outside).toEqual({ count: 1, by_reason: { not_0_or_1: 1 } });
    });

    it('is another request than the change it previews, for an Idempotency-Key', async () => {
      const { label } = await usedLabel(continuous, 1);
      const key = { ...bearer(), 'Idempotency-Key': randomUUID() };
      const url = `${labelUrl(label)}?dry_run=true`;
      const first = await t.http.patch(url).set(key).send({ max_value: 5 });
      const again = await t.http.patch(url).set(key).send({ max_value: 5 });
      expect([again.status, again.headers['idempotent-replayed'], again.body]).toEqual([
        200,
        'true',
        first.body,
      ]);
      // The real change with the dry run's key is not answered with the preview.
      const real = await t.http.patch(labelUrl(label)).set(key).send({ max_value: 5 });
      expect([real.status, real.body.code]).toEqual([422, 'idempotency_key_reused']);
      expect((await t.http.get(labelUrl(label)).set(bearer())).body.version).toBe(1);
    });

    it('on an unused label: no new version, nothing outside', async () => {
      const label = await createLabel(t.http, continuous);
      const res = await patch(label, { max_value: 1 }, '?dry_run=true');
      expect(res.body).toEqual({
        new_version: false,
        version: 1,
        breaking_changes: [],
        outside: { count: 0, by_reason: {} },
      });
    });

    it('refuses what the PATCH would refuse, and honours If-Match', async () => {
      const { label } = await usedLabel(continuous, 1);
      const bad = await patch(label, { min_value: 20 }, '?dry_run=true');
      expect([bad.status, bad.body.code]).toEqual([422, 'invalid_label_definition']);
      const notBool = await patch(label, { max_value: 5 }, '?dry_run=maybe');
      expect([notBool.status, notBool.body.details[0].field]).toEqual([400, 'dry_run']);
      const stale = await t.http
        .patch(`${labelUrl(label)}?dry_run=true`)
        .set({ ...bearer(), 'If-Match': '"stale"' })
        .send({ max_value: 5 });
      expect(stale.status).toBe(412);
      const other = await patch(
        label,
        { max_value: 5 },
        '?dry_run=true',
        bearer(token({ account: `other-${randomUUID()}` })),
      );
      expect(other.status).toBe(404);
    });
  });

  it('the versions of another account’s label are a 404', async () => {
    const label = await createLabel(t.http, continuous);
    const res = await t.http
      .get(`${labelUrl(label)}/versions`)
      .set(bearer(token({ account: `other-${randomUUID()}` })));
    expect([res.status, res.body.code]).toEqual([404, 'not_found']);
  });

  it('events carry the label version', async () => {
    const account = `versions-${randomUUID()}`;
    const auth = bearer(token({ account }));
    const { label, run, evaluation } = await usedLabel(continuous, 8, auth);
    await patch(label, { max_value: 5 }, '', auth).expect(200);
    await t.http
      .put(`/v1/run/${run.id}/evaluation/${evaluation.id}`)
      .set(auth)
      .send({ value: 3 })
      .expect(200);
    let events: Json[] = [];
    await until(async () => {
      events = (await t.http.get('/v1/events').set({ ...auth, Accept: 'application/json' })).body;
      return events.length >= 5;
    });
    const of = (type: string) => events.filter((e) => e.type === type).map((e) => e.data);
    expect(of('label.updated').map((d) => d.version)).toEqual([2]);
    expect(of('evaluation.created').map((d) => d.label_version)).toEqual([1]);
    expect(of('evaluation.updated')).toEqual([
      expect.objectContaining({ value: 3, label_version: 2, old_value: 8, old_label_version: 1 }),
    ]);
  });

  describe('statistics', () => {
    let label: Created;
    beforeAll(async () => {
      const used = await usedLabel(continuous, 8);
      label = used.label;
      await createEvaluation(t.http, used.run.id, { evaluation_label_id: label.id, value: 10 });
      await patch(label, { max_value: 5 }).expect(200);
      for (const value of [1, 2, 3]) {
        await createEvaluation(t.http, used.run.id, { evaluation_label_id: label.id, value });
      }
    });
    const stats = (query: string) =>
      t.http.get(`/v1/evaluation-label/${label.id}/stats${query}`).set(bearer());

    it('a group that mixes versions says so', async () => {
      const res = await stats('');
      expect(res.status).toBe(200);
      expect(res.body.groups).toEqual([
        expect.objectContaining({
          n: 5,
          label_versions: [1, 2],
          warnings: ['mixed_label_versions'],
        }),
      ]);
    });

    it('group_by=label_version splits by version', async () => {
      const res = await stats('?group_by=label_version');
      expect(
        res.body.groups.map((g: Json) => [g.key, g.n, g.mean, g.label_versions, g.warnings]),
      ).toEqual([
        [{ label_version: 1 }, 2, 9, [1], []],
        [{ label_version: 2 }, 3, 2, [2], []],
      ]);
      const byDay = await stats('?group_by=label_version&interval=day');
      expect(byDay.body.groups.every((g: Json) => g.warnings.length === 0)).toBe(true);
    });

    it('beside a group that mixes versions, a group of one version says one', async () => {
      const { label: split, run } = await usedLabel(continuous, 8);
      const post = (value: number, output_name: string) =>
        createEvaluation(t.http, run.id, { evaluation_label_id: split.id, value, output_name });
      await post(9, 'a');
      await patch(split, { max_value: 5 }).expect(200);
      await post(1, 'a');
      await post(2, 'b');
      const res = await t.http
        .get(`/v1/evaluation-label/${split.id}/stats?group_by=output_name`)
        .set(bearer());
      expect(res.body.groups.map((g: Json) => [g.key, g.label_versions, g.warnings])).toEqual([
        [{ output_name: 'a' }, [1, 2], ['mixed_label_versions']],
        [{ output_name: 'b' }, [2], []],
        [{ output_name: null }, [1], []],
      ]);
    });

    it('filter label_version takes one version; one that never existed is a 400', async () => {
      const res = await stats('?label_version=2');
      expect(res.body.groups).toEqual([
        expect.objectContaining({ n: 3, mean: 2, label_versions: [2], warnings: [] }),
      ]);
      for (const [query, status] of [
        ['?label_version=3', 400],
        ['?label_version=0', 400],
        ['?label_version=1.5', 400],
        ['?label_version=two', 400],
      ] as const) {
        const bad = await stats(query);
        expect([bad.status, bad.body.code, bad.body.details?.[0].field]).toEqual([
          status,
          'validation_failed',
          'label_version',
        ]);
      }
      expect((await stats('?label_version=3')).body.error).toBe(
        `Label "${(await t.http.get(labelUrl(label)).set(bearer())).body.name}" has versions 1 to 2; label_version 3 does not exist.`,
      );
    });

    it('each side of a comparison says which versions it holds', async () => {
      const res = await t.http
        .get(`/v1/evaluation-label/${label.id}/compare`)
        .query({ 'baseline.label_version': 1, 'candidate.label_version': 2 })
        .set(bearer());
      expect(res.status).toBe(200);
      expect([res.body.baseline.label_versions, res.body.candidate.label_versions]).toEqual([
        [1],
        [2],
      ]);
      const mixed = await t.http
        .get(`/v1/evaluation-label/${label.id}/compare`)
        .query({ 'candidate.label_version': 2 })
        .set(bearer());
      expect(mixed.body.baseline.warnings).toEqual(['mixed_label_versions']);
      const missing = await t.http
        .get(`/v1/evaluation-label/${label.id}/compare`)
        .query({ 'baseline.label_version': 7 })
        .set(bearer());
      expect([missing.status, missing.body.details[0].field]).toEqual([
        400,
        'baseline.label_version',
      ]);
    });
  });

  it('writers racing a breaking change: every stored value fits the version it carries', async () => {
    const { label, run } = await usedLabel(continuous, 1);
    const posts = Array.from({ length: 24 }, (_, i) =>
      t.http
        .post(`/v1/run/${run.id}/evaluations`)
        .set(bearer())
        .send({ evaluation_label_id: label.id, value: i % 2 ? 8 : 4 }),
    );
    const change = new Promise((r) => setTimeout(r, 5)).then(() => patch(label, { max_value: 5 }));
    const answers = await Promise.all([...posts, change]);
    expect(answers.at(-1)!.body.version).toBe(2);
    for (const res of answers.slice(0, -1)) expect([201, 422]).toContain(res.status);
    const rows = await across(`?evaluation_label_id=${label.id}`);
    expect(rows.length).toBe(1 + answers.filter((r) => r.status === 201).length);
    expect(rows.filter((r) => r.label_version === 2 && r.value > 5)).toEqual([]);
    expect(rows.every((r) => r.label_version === 1 || r.label_version === 2)).toBe(true);
  });
});
