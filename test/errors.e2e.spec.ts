import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp } from './support/app.js';
import { createRun } from './support/factories.js';

describe.each(DATABASES)('the one error body on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db, { BODY_LIMIT: '4096' });
  });
  afterAll(() => t.close());

  const shape = (code: string) => ({
    error: expect.any(String),
    code,
    request_id: expect.any(String),
  });

  it('malformed JSON is a 400', async () => {
    const res = await t.http
      .post('/v1/runs')
      .set(bearer())
      .set('content-type', 'application/json')
      .send('{"name":');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(shape('invalid_json'));
  });

  it('a body that is not JSON is a 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await t.http
        .post('/v1/runs')
        .set(bearer())
        .set('content-type', type)
        .send('name=x');
      expect([type, res.status, res.body]).toEqual([type, 415, shape('unsupported_media_type')]);
    }
  });

  it('a body over BODY_LIMIT is a 413, and nothing is written', async () => {
    const before = (await t.http.get('/v1/runs').set(bearer())).body.length;
    const res = await t.http
      .post('/v1/runs')
      .set(bearer())
      .send({ name: 'x'.repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual(shape('payload_too_large'));
    expect((await t.http.get('/v1/runs').set(bearer())).body.length).toBe(before);
  });

  it('a JSON body that is not an object is a 400', async () => {
    for (const body of ['[1]', '"x"', '42', 'null']) {
      const res = await t.http
        .post('/v1/runs')
        .set(bearer())
        .set('content-type', 'application/json')
        .send(body);
      expect([body, res.status]).toEqual([body, 400]);
    }
  });

  it('an unknown route is a 404 in the same shape', async () => {
    const res = await t.http.get('/v1/nothing').set(bearer());
    expect(res.status).toBe(404);
    expect(res.body).toEqual(shape('route_not_found'));
  });

  it('a bad uuid in a path is a 400 naming the parameter', async () => {
    const run = await createRun(t.http);
    const res = await t.http.get(`/v1/run/${run.id}/evaluation/42`).set(bearer());
    expect(res.status).toBe(400);
    expect(res.body).toEqual(shape('invalid_path_parameter'));
    expect(res.body.error).toContain('evaluation_id');
  });

  it('echoes a sane x-request-id and makes one otherwise', async () => {
    const mine = await t.http.get('/v1/nothing').set('x-request-id', 'trace-123');
    expect(mine.headers['x-request-id']).toBe('trace-123');
    expect(mine.body.request_id).toBe('trace-123');
    const made = await t.http.get('/v1/nothing').set('x-request-id', 'bad id with spaces');
    expect(made.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('hostile input never produces a 500', async () => {
    const run = await createRun(t.http, { outputs: { a: { b: [1, 2] } } });
    const label = (
      await t.http
        .post('/v1/evaluation-labels')
        .set(bearer())
        .send({ name: 'h', value_type: 'binary' })
    ).body;
    const bodies: unknown[] = [
      { evaluation_label_id: label.id, value: 1, output_name: '\u0000' },
      { evaluation_label_id: label.id, value: 1, field_path: '$..*..*..*' },
      { evaluation_label_id: label.id, value: 1, field_path: "$[?match(@, '(a+)+$')]" },
      { evaluation_label_id: label.id, value: 1, output_name: '__proto__' },
      { evaluation_label_id: label.id, value: 1, output_name: 'constructor' },
      { evaluation_label_id: label.id, value: -0 },
      { evaluation_label_id: label.id.toUpperCase(), value: 1 },
      { evaluation_label_id: label.id, value: 1, field_path: '$'.repeat(1999) },
    ];
    for (const body of bodies) {
      const res = await t.http
        .post(`/v1/run/${run.id}/evaluations`)
        .set(bearer())
        .send(body as object);
      expect([body, res.status < 500]).toEqual([body, true]);
    }
    const proto = await t.http
      .post('/v1/runs')
      .set(bearer())
      .set('content-type', 'application/json')
      .send('{"__proto__":{"x":1}}');
    expect(proto.status).toBe(400);
  });
});
