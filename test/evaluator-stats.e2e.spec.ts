import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { type Created, createEvaluator, createLabel, createRun } from './support/factories.js';
import { expectValidationFailed } from './support/validation.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Monday, 6 April 2026, 00:00 UTC, and instants after it in seconds. */
const T0 = Date.UTC(2026, 3, 6);
const DAY = 86_400;
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

describe.each(DATABASES)('the statistics of evaluators on $name', (db) => {
  let t: TestApp;
  const account = `evaluators-${randomUUID()}`;
  const alice = bearer(token({ account }));
  let one: Created;
  let two: Created;
  let idle: Created;
  let scored: Created;
  let binary: Created;

  beforeAll(async () => {
    t = await startApp(db);
    [one, two, idle] = [
      await createEvaluator(t.http, { name: 'one' }, alice),
      await createEvaluator(t.http, { name: 'two' }, alice),
      await createEvaluator(t.http, { name: 'idle' }, alice),
    ];
    const as = (evaluator: Created) =>
      bearer(token({ account, sub: 'svc', evaluator: evaluator.id }));
    scored = await createLabel(t.http, { name: 'scored' }, alice);
    binary = await createLabel(t.http, { name: 'binary', value_type: 'binary' }, alice);
    const first = await createRun(t.http, {}, alice);
    const second = await createRun(t.http, {}, alice);
    const write = async (
      auth: Record<string, string>,
      items: [Created, Created, number, number][],
    ) => {
      const res = await t.http
        .post('/v1/evaluations/batch')
        .set(auth)
        .send({
          items: items.map(([run, label, value]) => ({
            run_id: run.id,
            evaluation_label_id: label.id,
            value,
          })),
        });
      expect(res.status).toBe(201);
      return (res.body as Json[]).map((e, i): Json => ({ ...e, at: at(items[i][3]) }));
    };
    // Evaluator one: e1…e5 on the first run (created at T0), e6 on the second.
    const [e1, e2, e3, e4, e5, e6] = await write(as(one), [
      [first, scored, 1, 60],
      [first, scored, 2, 120],
      [first, scored, 3, 180],
      [first, scored, 4, DAY + 300],
      [first, scored, 5, DAY + 600],
      [second, binary, 1, 2 * DAY],
    ]);
    // Evaluator two: f1, f2 on the scored label, f3 on the binary one.
    const [f1, f2, f3] = await write(as(two), [
      [first, scored, 1, 30],
      [first, scored, 2, DAY],
      [first, binary, 0, 3 * DAY],
    ]);
    const put = (e: Json, auth: Record<string, string>, value: number) =>
      t.http.put(`/v1/run/${e.run_id}/evaluation/${e.id}`).set(auth).send({ value }).expect(200);
    await put(e1, alice, 2); // a person, twice: it counts once
    await put(e1, bob(), 3);
    await put(e2, as(two), 3); // another evaluator: it does not count
    await t.http.delete(`/v1/run/${e3.run_id}/evaluation/${e3.id}`).set(alice).expect(204);
    await put(e4, alice, 1);
    await put(e5, as(one), 1); // the evaluator itself: it does not count
    await put(f1, alice, 5);
    // The creation times the figures are computed from, written straight into the tables.
    const written = [e1, e2, e3, e4, e5, e6, f1, f2, f3];
    const values = written.map((e) => `('${e.id}'::uuid, '${e.at}'::timestamptz)`).join(', ');
    await t.dataSource.query(
      `UPDATE run_evaluations e SET created_at = v.at FROM (VALUES ${values}) v(id, at) WHERE e.id = v.id`,
    );
    await t.dataSource.query(
      `UPDATE evaluation_changes c SET changed_at = v.at FROM (VALUES ${values}) v(id, at)
        WHERE c.evaluation_id = v.id AND c.operation = 'create'`,
    );
    await t.dataSource.query('UPDATE runs SET created_at = $1 WHERE id = $2', [at(0), first.id]);
    await t.dataSource.query('UPDATE runs SET created_at = $1 WHERE id = $2', [
      at(2 * DAY - 100),
      second.id,
    ]);
    // Another account's evaluator, busy, which no answer here may show.
    const other = bearer(token({ account: `${account}-other` }));
    const theirs = await createEvaluator(t.http, { name: 'one' }, other);
    const theirLabel = await createLabel(t.http, { name: 'scored' }, other);
    const theirRun = await createRun(t.http, {}, other);
    await t.http
      .post('/v1/evaluations/batch')
      .set(bearer(token({ account: `${account}-other`, evaluator: theirs.id })))
      .send({ items: [{ run_id: theirRun.id, evaluation_label_id: theirLabel.id, value: 1 }] })
      .expect(201);
  });
  afterAll(() => t.close());

  const bob = () => bearer(token({ account, sub: 'bob' }));
  const stats = async (query: Json = {}) => {
    const res = await t.http.get('/v1/evaluators/stats').query(query).set(alice);
    expect(res.status).toBe(200);
    return res.body as { items: Json[]; next: string | null };
  };
  /** Per evaluator name: what the answer says, the evaluator itself left out. */
  const figures = async (query: Json = {}) =>
    Object.fromEntries(
      (await stats(query)).items.map(({ evaluator, ...rest }) => [evaluator.name, rest]),
    );
  const NOTHING = {
    n: 0,
    volume: [],
    changed: { n: 0, changed: 0, share: null },
    lag_seconds: { p50: null, p90: null, max: null, mean: null },
  };

  it('counts, volume, changes by people and lag, computed by hand', async () => {
    expect(await figures()).toEqual({
      one: {
        n: 5,
        volume: [
          { bucket: at(0), n: 2 },
          { bucket: at(DAY), n: 2 },
          { bucket: at(2 * DAY), n: 1 },
        ],
        // e1…e6, e3 deleted: e1 (twice), e3 and e4 by people.
        changed: { n: 6, changed: 3, share: 0.5 },
        // 60, 100, 120, 86700, 87000: p90 at 3.6 of 4 steps.
        lag_seconds: { p50: 120, p90: 86880, max: 87000, mean: 34796 },
      },
      two: {
        n: 3,
        volume: [
          { bucket: at(0), n: 1 },
          { bucket: at(DAY), n: 1 },
          { bucket: at(3 * DAY), n: 1 },
        ],
        changed: { n: 3, changed: 1, share: 1 / 3 },
        // 30, 86400, 259200
        lag_seconds: { p50: 86400, p90: 224640, max: 259200, mean: 115210 },
      },
      idle: NOTHING,
    });
  });

  it('takes a window: [from, to) of the creation times', async () => {
    const window = await figures({ from: at(DAY), to: at(3 * DAY) });
    expect(window.one).toEqual({
      n: 3,
      volume: [
        { bucket: at(DAY), n: 2 },
        { bucket: at(2 * DAY), n: 1 },
      ],
      changed: { n: 3, changed: 1, share: 1 / 3 },
      lag_seconds: { p50: 86700, p90: 86940, max: 87000, mean: 173800 / 3 },
    });
    expect(window.two).toEqual({
      n: 1,
      volume: [{ bucket: at(DAY), n: 1 }],
      changed: { n: 1, changed: 0, share: 0 },
      lag_seconds: { p50: 86400, p90: 86400, max: 86400, mean: 86400 },
    });
    // Before e3's creation and after it: the deleted evaluation is placed by its history.
    expect((await figures({ to: at(180) })).one.changed).toEqual({ n: 2, changed: 1, share: 0.5 });
    expect((await figures({ to: at(181) })).one.changed).toEqual({
      n: 3,
      changed: 2,
      share: 2 / 3,
    });
  });

  it('takes a label: deleted evaluations, whose history names none, are left out', async () => {
    const ofLabel = await figures({ evaluation_label_id: scored.id });
    expect([ofLabel.one.n, ofLabel.one.changed]).toEqual([4, { n: 4, changed: 2, share: 0.5 }]);
    expect([ofLabel.two.n, ofLabel.two.changed]).toEqual([2, { n: 2, changed: 1, share: 0.5 }]);
    expect((await figures({ evaluation_label_id: binary.id })).one).toEqual({
      n: 1,
      volume: [{ bucket: at(2 * DAY), n: 1 }],
      changed: { n: 1, changed: 0, share: 0 },
      lag_seconds: { p50: 100, p90: 100, max: 100, mean: 100 },
    });
    expect((await figures({ evaluation_label_id: randomUUID() })).one).toEqual(NOTHING);
  });

  it('buckets by interval', async () => {
    const weekly = await figures({ interval: 'week' });
    expect([weekly.one.volume, weekly.two.volume]).toEqual([
      [{ bucket: at(0), n: 5 }],
      [{ bucket: at(0), n: 3 }],
    ]);
    const hourly = await figures({ interval: 'hour', to: at(DAY) });
    expect(hourly.one.volume).toEqual([{ bucket: at(0), n: 2 }]);
  });

  it('pages like the list of evaluators, and shows only the account’s own', async () => {
    const first = await stats({ limit: 2 });
    expect(first.items.map((i) => i.evaluator.id)).toEqual([one.id, two.id]);
    expect(first.next).toEqual(expect.any(String));
    const rest = await stats({ limit: 2, cursor: first.next });
    expect([rest.items.map((i) => i.evaluator.id), rest.next]).toEqual([[idle.id], null]);
    const res = await t.http
      .get('/v1/evaluators/stats')
      .set(bearer(token({ account: `${account}-other` })));
    expect(res.body.items.map((i: Json) => [i.evaluator.account_id, i.n])).toEqual([
      [`${account}-other`, 1],
    ]);
  });

  it.each([
    ['from', { from: 'soon' }],
    ['to', { from: at(10), to: at(0) }],
    ['evaluation_label_id', { evaluation_label_id: 'scored' }],
    ['interval', { interval: 'minute' }],
    ['workflow', { workflow: 'A' }],
    ['limit', { limit: '1001' }],
  ])('refuses a bad %s with a 400', async (field, query) => {
    const res = await t.http.get('/v1/evaluators/stats').query(query).set(alice);
    expectValidationFailed(res, field === 'to' ? 'from' : field);
  });
});
