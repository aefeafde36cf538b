import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { createLabel, createRun } from './support/factories.js';

describe.each(DATABASES)('batch create on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const batch = (body: object, auth = bearer()) =>
    t.http.post('/v1/evaluations/batch').set(auth).send(body);

  const count = async (table: string, runIds: string[]) => {
    const [{ n }] = await t.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM ${table} WHERE run_id = ANY($1::uuid[])`,
      [runIds],
    );
    return n;
  };

  it('atomic: creates every item in request order, each with its create record', async () => {
    const label = await createLabel(t.http);
    const [a, b] = [await createRun(t.http), await createRun(t.http)];
    const items = [3, 1, 4, 1, 5].map((value, i) => ({
      run_id: i % 2 ? b.id : a.id,
      evaluation_label_id: label.id,
      value,
    }));
    const res = await batch({ items });
    expect(res.status).toBe(201);
    expect(res.body.map((e: { value: number }) => e.value)).toEqual([3, 1, 4, 1, 5]);
    expect(res.body.map((e: { run_id: string }) => e.run_id)).toEqual(items.map((i) => i.run_id));
    const list = await t.http.get(`/v1/run/${a.id}/evaluations`).set(bearer());
    expect(list.body.map((e: { value: number }) => e.value)).toEqual([3, 4, 5]);
    for (const e of res.body as { id: string; run_id: string }[]) {
      const history = await t.http
        .get(`/v1/run/${e.run_id}/evaluation/${e.id}/history`)
        .set(bearer());
      expect(history.body).toEqual([
        expect.objectContaining({ operation: 'create', old_value: null }),
      ]);
    }
  });

  it('atomic: names the refused items in one sentence', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const res = await batch({
      items: [
        { run_id: run.id, evaluation_label_id: label.id, value: 1 },
        { run_id: run.id, evaluation_label_id: label.id, value: 9 },
      ],
    });
    expect(res.body.error).toBe(
      '1 of 2 items were refused, so nothing was written: items[1].value: Label ' +
        `"${String(label.name)}" is continuous: value must be from 0 to 5, got 9. ` +
        'Fix them (see details) and send the batch again.',
    );
  });

  it('atomic: one bad item writes nothing, and every failing item is named', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http, { outputs: { answer: 'x' } });
    const res = await batch({
      items: [
        { run_id: run.id, evaluation_label_id: label.id, value: 1 },
        { run_id: run.id, evaluation_label_id: label.id, value: 9 },
        { run_id: run.id, evaluation_label_id: label.id, value: 2, output_name: 'nope' },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('batch_rejected');
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual([
      'items[1].value',
      'items[2].output_name',
    ]);
    expect(res.body.error).toMatch(/2 of 3 items/);
    expect(await count('run_evaluations', [run.id])).toBe(0);
    expect(await count('evaluation_changes', [run.id])).toBe(0);
  });

  it('atomic: a missing run or label is a 404 naming the items', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const res = await batch({
      items: [
        { run_id: run.id, evaluation_label_id: label.id, value: 1 },
        { run_id: randomUUID(), evaluation_label_id: label.id, value: 1 },
        { run_id: run.id, evaluation_label_id: randomUUID(), value: 1 },
        { run_id: run.id, evaluation_label_id: label.id, value: 99 },
      ],
    });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual([
      'items[1].run_id',
      'items[2].evaluation_label_id',
      'items[3].value',
    ]);
    expect(await count('run_evaluations', [run.id])).toBe(0);
  });

  it('answers 400 for an item that nests an object holding a `constructor` key', async () => {
    const label = await createLabel(t.http);
    const res = await batch({
      items: [{ run_id: { constructor: 7, a: false }, evaluation_label_id: label.id, value: 1 }],
    });
    expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
  });

  it('atomic: a malformed item is a 400 naming it, and nothing is written', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const res = await batch({
      items: [
        { run_id: run.id, evaluation_label_id: label.id, value: 1 },
        { run_id: run.id, evaluation_label_id: label.id, value: 'high' },
        { run_id: 'nope', evaluation_label_id: label.id, value: 1, colour: 'red' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    const fields = res.body.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining(['items[1].value', 'items[2].run_id', 'items[2].colour']),
    );
    expect(await count('run_evaluations', [run.id])).toBe(0);
  });

  it('atomic false: 207 with one result per item; the valid ones are written', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const res = await batch({
      atomic: false,
      items: [
        { run_id: run.id, evaluation_label_id: label.id, value: 1 },
        { run_id: run.id, evaluation_label_id: label.id, value: 7 },
        { run_id: randomUUID(), evaluation_label_id: label.id, value: 1 },
        { run_id: run.id, evaluation_label_id: label.id, value: 'x' },
        { run_id: run.id, evaluation_label_id: label.id, value: 2 },
      ],
    });
    expect(res.status).toBe(207);
    expect(res.body.map((r: { index: number; status: number }) => [r.index, r.status])).toEqual([
      [0, 201],
      [1, 422],
      [2, 404],
      [3, 400],
      [4, 201],
    ]);
    expect(res.body[1].error).toMatchObject({
      code: 'value_out_of_range',
      request_id: res.headers['x-request-id'],
    });
    expect(res.body[3].error.details[0].field).toBe('value');
    expect(res.body[0].evaluation.value).toBe(1);
    const list = await t.http.get(`/v1/run/${run.id}/evaluations`).set(bearer());
    expect(list.body.map((e: { id: string }) => e.id)).toEqual([
      res.body[0].evaluation.id,
      res.body[4].evaluation.id,
    ]);
    expect(await count('evaluation_changes', [run.id])).toBe(2);
  });

  it('atomic false: answers 207 even when every item succeeds', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const res = await batch({
      atomic: false,
      items: [{ run_id: run.id, evaluation_label_id: label.id, value: 1 }],
    });
    expect(res.status).toBe(207);
    expect(res.body).toEqual([expect.objectContaining({ index: 0, status: 201 })]);
  });

  it('refuses a body that is not a batch with 400', async () => {
    const run = await createRun(t.http);
    const label = await createLabel(t.http);
    const item = { run_id: run.id, evaluation_label_id: label.id, value: 1 };
    for (const body of [
      {},
      { items: [] },
      { items: Array.from({ length: 1001 }, () => item) },
      { items: item },
      { items: [item, 3] },
      { items: [item], atomic: 'yes' },
      { items: [item], extra: 1 },
    ]) {
      const res = await batch(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    expect(await count('run_evaluations', [run.id])).toBe(0);
  });

  it('reads each run and label once, and writes in one statement: two in all', async () => {
    const labels = [await createLabel(t.http), await createLabel(t.http)];
    const runs = [await createRun(t.http), await createRun(t.http), await createRun(t.http)];
    const items = Array.from({ length: 300 }, (_, i) => ({
      run_id: runs[i % 3].id,
      evaluation_label_id: labels[i % 2].id,
      value: i % 5,
    }));
    const spy = jest.spyOn(PostgresQueryRunner.prototype, 'query');
    try {
      const res = await batch({ items });
      expect(res.status).toBe(201);
      // This write's statements: those about runs, labels or evaluations (the outbox relay
      // may query meanwhile).
      const [read, write, ...more] = spy.mock.calls
        .map(([q]) => q)
        .filter((q) => /\b(runs|evaluation_labels|run_evaluations)\b/.test(q));
      expect(more).toEqual([]);
      // The read: one SELECT of the runs and the labels, each id once.
      expect(read.match(/FROM runs\b/g)).toHaveLength(1);
      expect(read.match(/FROM evaluation_labels\b/g)).toHaveLength(1);
      expect(read).not.toMatch(/INSERT/);
      // The write: the inserts, and the check that the runs and labels read are unchanged.
      expect(write.match(/INSERT INTO run_evaluations/g)).toHaveLength(1);
      expect(write).toMatch(/assay_require/);
    } finally {
      spy.mockRestore();
    }
    expect(
      await count(
        'run_evaluations',
        runs.map((r) => r.id),
      ),
    ).toBe(300);
    expect(
      await count(
        'evaluation_changes',
        runs.map((r) => r.id),
      ),
    ).toBe(300);
  });

  it('sees only the caller’s own runs and labels', async () => {
    const other = bearer(token({ account: 'globex', sub: 'gina' }));
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const res = await batch(
      { items: [{ run_id: run.id, evaluation_label_id: label.id, value: 1 }] },
      other,
    );
    expect(res.status).toBe(404);
    expect(await count('run_evaluations', [run.id])).toBe(0);
  });
});
