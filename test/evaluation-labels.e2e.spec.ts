import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp } from './support/app.js';
import { createEvaluation, createLabel, createRun } from './support/factories.js';

describe.each(DATABASES)('evaluation labels on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const post = (body: object) => t.http.post('/v1/evaluation-labels').set(bearer()).send(body);

  it('accepts a consistent definition of each value type', async () => {
    for (const def of [
      { value_type: 'binary' },
      { value_type: 'continuous', min_value: -1, max_value: 1 },
      { value_type: 'categorical', categories: ['a', 'b'] },
      { value_type: 'ordinal', categories: Array.from({ length: 100 }, (_, i) => `level ${i}`) },
    ]) {
      const res = await post({ name: `ok ${def.value_type}`, description: 'd', ...def });
      expect([def.value_type, res.status]).toEqual([def.value_type, 201]);
      expect(res.body).toMatchObject({
        ...def,
        archived_at: null,
        created_by: 'alice',
        account_id: 'acme',
      });
    }
  });

  it.each([
    ['binary with a range', { value_type: 'binary', min_value: 0, max_value: 1 }],
    ['binary with categories', { value_type: 'binary', categories: ['a', 'b'] }],
    ['continuous without max', { value_type: 'continuous', min_value: 0 }],
    ['continuous with min = max', { value_type: 'continuous', min_value: 1, max_value: 1 }],
    ['continuous with min > max', { value_type: 'continuous', min_value: 2, max_value: 1 }],
    [
      'continuous with categories',
      { value_type: 'continuous', min_value: 0, max_value: 1, categories: ['a', 'b'] },
    ],
    ['categorical without categories', { value_type: 'categorical' }],
    ['categorical with one category', { value_type: 'categorical', categories: ['a'] }],
    [
      'categorical with 101 categories',
      { value_type: 'categorical', categories: Array.from({ length: 101 }, (_, i) => `c${i}`) },
    ],
    ['categorical with duplicates', { value_type: 'categorical', categories: ['a', 'a'] }],
    ['categorical with an empty category', { value_type: 'categorical', categories: ['a', ' '] }],
    [
      'ordinal with a range',
      { value_type: 'ordinal', categories: ['lo', 'hi'], min_value: 0, max_value: 1 },
    ],
  ])('refuses %s with 422', async (_why, def) => {
    const res = await post({ name: 'bad', ...def });
    expect([res.status, res.body.code]).toEqual([422, 'invalid_label_definition']);
  });

  it.each([
    ['no name', { value_type: 'binary' }],
    ['an empty name', { name: '', value_type: 'binary' }],
    ['a 201-character name', { name: 'x'.repeat(201), value_type: 'binary' }],
    ['an unknown value_type', { name: 'n', value_type: 'likert' }],
    ['an infinite bound', { name: 'n', value_type: 'continuous', min_value: 0, max_value: '1' }],
    [
      'categories that are not strings',
      { name: 'n', value_type: 'categorical', categories: [1, 2] },
    ],
  ])('refuses %s with 400', async (_why, body) => {
    const res = await post(body);
    expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
  });

  it('keeps live names unique in the account (409), and frees the name of an archived label', async () => {
    const first = await createLabel(t.http, { name: 'accuracy' });
    const dup = await post({ name: 'accuracy', value_type: 'binary' });
    expect([dup.status, dup.body.code]).toEqual([409, 'conflict']);
    const run = await createRun(t.http);
    await createEvaluation(t.http, run.id, { evaluation_label_id: first.id, value: 1 });
    expect((await t.http.delete(`/v1/evaluation-label/${first.id}`).set(bearer())).status).toBe(
      204,
    );
    expect((await post({ name: 'accuracy', value_type: 'binary' })).status).toBe(201);
  });

  it('PATCH: name and description always; the definition of an unused label in place', async () => {
    const label = await createLabel(t.http, { value_type: 'binary' });
    const url = `/v1/evaluation-label/${label.id}`;
    const unused = await t.http
      .patch(url)
      .set(bearer())
      .send({ value_type: 'continuous', min_value: 0, max_value: 10 });
    expect(unused.status).toBe(200);
    // Unused, the label has nothing to keep the meaning of: its one version changes.
    expect(unused.body).toMatchObject({
      value_type: 'continuous',
      min_value: 0,
      max_value: 10,
      version: 1,
    });
    const inconsistent = await t.http.patch(url).set(bearer()).send({ value_type: 'categorical' });
    expect([inconsistent.status, inconsistent.body.code]).toEqual([
      422,
      'invalid_label_definition',
    ]);

    const run = await createRun(t.http);
    await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 7 });
    const renamed = await t.http
      .patch(url)
      .set(bearer())
      .send({ name: 'renamed', description: 'why' });
    expect(renamed.body).toMatchObject({ name: 'renamed', description: 'why' });
    expect(renamed.body.version).toBe(1);
    const same = await t.http.patch(url).set(bearer()).send({ max_value: 10 });
    expect([same.status, same.body.version]).toEqual([200, 1]);
    const nullName = await t.http.patch(url).set(bearer()).send({ name: null });
    expect(nullName.status).toBe(400);
  });

  it('DELETE removes an unused label and archives a used one', async () => {
    const unused = await createLabel(t.http);
    expect((await t.http.delete(`/v1/evaluation-label/${unused.id}`).set(bearer())).status).toBe(
      204,
    );
    expect((await t.http.get(`/v1/evaluation-label/${unused.id}`).set(bearer())).status).toBe(404);

    const used = await createLabel(t.http);
    const run = await createRun(t.http);
    await createEvaluation(t.http, run.id, { evaluation_label_id: used.id, value: 1 });
    expect((await t.http.delete(`/v1/evaluation-label/${used.id}`).set(bearer())).status).toBe(204);
    const ids = async (q: string) =>
      (await t.http.get(`/v1/evaluation-labels${q}`).set(bearer())).body.map(
        (l: { id: string }) => l.id,
      );
    expect(await ids('')).not.toContain(used.id);
    expect(await ids('?include_archived=true')).toContain(used.id);
    expect(
      (await t.http.get('/v1/evaluation-labels?include_archived=yes').set(bearer())).status,
    ).toBe(400);
  });
});
