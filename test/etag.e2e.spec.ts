import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp } from './support/app.js';
import { createEvaluation, createEvaluator, createLabel, createRun } from './support/factories.js';

describe.each(DATABASES)('ETag and If-Match on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const get = (path: string) => t.http.get(path).set(bearer());

  it('answers GET with a strong ETag, and 304 for If-None-Match', async () => {
    const run = await t.http.post('/v1/runs').set(bearer()).send({ name: 'a' });
    const etag = run.headers.etag;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get(`/v1/run/${run.body.id}`);
    expect(again.headers.etag).toBe(etag);
    const notModified = await get(`/v1/run/${run.body.id}`)
      .set('If-None-Match', `"x", ${etag}`)
      .set('x-request-id', 'conditional-1');
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    // The headers of the answer it stands for, but none about a body it does not have.
    expect(notModified.headers).toMatchObject({
      etag,
      'x-request-id': 'conditional-1',
      'x-ratelimit-limit': expect.any(String),
    });
    expect(notModified.headers['content-type']).toBeUndefined();
    expect(notModified.headers['content-length']).toBeUndefined();
    const head = await t.http.head(`/v1/run/${run.body.id}`).set(bearer());
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(etag);
    const headNotModified = await t.http
      .head(`/v1/run/${run.body.id}`)
      .set(bearer())
      .set('If-None-Match', `W/${etag}`);
    expect(headNotModified.status).toBe(304);
    expect(headNotModified.headers.etag).toBe(etag);
    // Lists carry none, and an error is not the resource.
    expect((await get('/v1/runs')).headers.etag).toBeUndefined();
    const missing = await get('/v1/run/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.headers.etag).toBeUndefined();
    expect((await get(`/v1/run/${run.body.id}`).set('If-None-Match', '"other"')).status).toBe(200);
    // Every change gives another tag, even one that leaves the fields as they were.
    const patched = await t.http.patch(`/v1/run/${run.body.id}`).set(bearer()).send({ name: 'a' });
    expect(patched.headers.etag).not.toBe(etag);
    expect((await get(`/v1/run/${run.body.id}`).set('If-None-Match', etag)).status).toBe(200);
  });

  it('PATCH and DELETE of a run honour If-Match: 412 with the current ETag, nothing written', async () => {
    const run = await t.http.post('/v1/runs').set(bearer()).send({ name: 'a' });
    const path = `/v1/run/${run.body.id}`;
    const stale = run.headers.etag;
    const current = (await t.http.patch(path).set(bearer()).send({ name: 'b' })).headers.etag;
    const refused = await t.http
      .patch(path)
      .set(bearer())
      .set('If-Match', stale)
      .send({ name: 'c' });
    expect(refused.status).toBe(412);
    expect(refused.body.code).toBe('precondition_failed');
    expect(refused.headers.etag).toBe(current);
    expect((await get(path)).body.name).toBe('b');
    // A weak tag never matches If-Match.
    const weak = await t.http.delete(path).set(bearer()).set('If-Match', `W/${current}`);
    expect(weak.status).toBe(412);
    const ok = await t.http
      .patch(path)
      .set(bearer())
      .set('If-Match', `"nope", ${current}`)
      .send({ name: 'c' });
    expect(ok.status).toBe(200);
    expect((await t.http.delete(path).set(bearer()).set('If-Match', current)).status).toBe(412);
    expect((await t.http.delete(path).set(bearer()).set('If-Match', '*')).status).toBe(204);
  });

  it('PUT and DELETE of an evaluation honour If-Match; the body stays the reference schema', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const evaluation = await t.http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(bearer())
      .send({ evaluation_label_id: label.id, value: 1 });
    const path = `/v1/run/${run.id}/evaluation/${evaluation.body.id}`;
    const tag = evaluation.headers.etag;
    expect((await get(path)).headers.etag).toBe(tag);
    const first = await t.http.put(path).set(bearer()).set('If-Match', tag).send({ value: 2 });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(Object.keys(evaluation.body).sort());
    // Two people editing from the same read: the second is told, not silently overwritten.
    const second = await t.http.put(path).set(bearer()).set('If-Match', tag).send({ value: 3 });
    expect(second.status).toBe(412);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect((await get(path)).body.value).toBe(2);
    expect((await t.http.delete(path).set(bearer()).set('If-Match', tag)).status).toBe(412);
    const history = await get(`${path}/history`);
    expect(history.body).toHaveLength(2);
  });

  it('labels and evaluators carry ETags and honour If-Match', async () => {
    const label = await t.http
      .post('/v1/evaluation-labels')
      .set(bearer())
      .send({ name: 'tagged', value_type: 'binary' });
    const labelPath = `/v1/evaluation-label/${label.body.id}`;
    expect((await get(labelPath)).headers.etag).toBe(label.headers.etag);
    await t.http.patch(labelPath).set(bearer()).send({ description: 'x' });
    const refused = await t.http
      .patch(labelPath)
      .set(bearer())
      .set('If-Match', label.headers.etag)
      .send({ description: 'y' });
    expect(refused.status).toBe(412);
    expect(
      (await t.http.delete(labelPath).set(bearer()).set('If-Match', label.headers.etag)).status,
    ).toBe(412);

    const evaluator = await createEvaluator(t.http);
    const evaluatorPath = `/v1/evaluator/${evaluator.id}`;
    const tag = (await get(evaluatorPath)).headers.etag;
    expect(
      (await t.http.patch(evaluatorPath).set(bearer()).set('If-Match', tag).send({ version: '2' }))
        .status,
    ).toBe(200);
    expect(
      (await t.http.patch(evaluatorPath).set(bearer()).set('If-Match', tag).send({ version: '3' }))
        .status,
    ).toBe(412);
  });

  it('without the headers, nothing changes from before', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const e = await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 1 });
    const put = await t.http
      .put(`/v1/run/${run.id}/evaluation/${e.id}`)
      .set(bearer())
      .send({ value: 2 });
    expect(put.status).toBe(200);
  });
});
