import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApp } from '../src/app.factory.js';
import { purgeExpiredKeys } from '../src/writes/idempotency.js';
import {
  bearer,
  DATABASES,
  describeOnServers,
  startApp,
  type TestApp,
  testSettings,
  token,
} from './support/app.js';
import { createLabel, createRun } from './support/factories.js';

describe.each(DATABASES)('Idempotency-Key on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const evaluationsOf = async (runId: string) =>
    (await t.http.get(`/v1/run/${runId}/evaluations`).set(bearer())).body as { id: string }[];
  const historyRows = async (runId: string) => {
    const [{ n }] = await t.dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM evaluation_changes WHERE run_id = $1',
      [runId],
    );
    return n;
  };

  async function fixture() {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const post = (key: string | undefined, body: object, auth = bearer()) => {
      const req = t.http.post(`/v1/run/${run.id}/evaluations`).set(auth);
      return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body);
    };
    return { label, run, post };
  }

  it('replays the first answer for the same key and request, writing nothing', async () => {
    const { label, run, post } = await fixture();
    const key = randomUUID();
    const first = await post(key, { evaluation_label_id: label.id, value: 2 });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Keys compare as JSON: the same body with its fields in another order is the same request.
    const again = await post(key, { value: 2, evaluation_label_id: label.id });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.text).toBe(first.text);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(await evaluationsOf(run.id)).toHaveLength(1);
    expect(await historyRows(run.id)).toBe(1);
    // A quoted key (as the IETF draft writes it) is the same key.
    const quoted = await post(`"${key}"`, { evaluation_label_id: label.id, value: 2 });
    expect(quoted.headers['idempotent-replayed']).toBe('true');
  });

  it('refuses the same key with another request: 422 idempotency_key_reused', async () => {
    const { label, run, post } = await fixture();
    const key = randomUUID();
    expect((await post(key, { evaluation_label_id: label.id, value: 2 })).status).toBe(201);
    const reused = await post(key, { evaluation_label_id: label.id, value: 3 });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
    const elsewhere = await t.http
      .post('/v1/runs')
      .set(bearer())
      .set('Idempotency-Key', key)
      .send({ name: 'x' });
    expect(elsewhere.status).toBe(422);
    expect(await evaluationsOf(run.id)).toHaveLength(1);
  });

  it('stores nothing for a failed request: a retry runs afresh', async () => {
    const { label, run, post } = await fixture();
    const key = randomUUID();
    const bad = await post(key, { evaluation_label_id: label.id, value: 99 });
    expect(bad.status).toBe(422);
    const [{ n }] = await t.dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1',
      [key],
    );
    expect(n).toBe(0);
    const fixed = await post(key, { evaluation_label_id: label.id, value: 1 });
    expect(fixed.status).toBe(201);
    expect(await evaluationsOf(run.id)).toHaveLength(1);
  });

  it('keeps keys per account', async () => {
    const key = randomUUID();
    const a = await t.http.post('/v1/runs').set(bearer()).set('Idempotency-Key', key).send({});
    const b = await t.http
      .post('/v1/runs')
      .set(bearer(token({ account: 'globex' })))
      .set('Idempotency-Key', key)
      .send({});
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.body.id).not.toBe(a.body.id);
  });

  it('replays PUT, PATCH and DELETE too', async () => {
    const { label, run, post } = await fixture();
    const created = (await post(undefined, { evaluation_label_id: label.id, value: 1 })).body;
    const path = `/v1/run/${run.id}/evaluation/${created.id}`;
    const key = randomUUID();
    const put = () => t.http.put(path).set(bearer()).set('Idempotency-Key', key).send({ value: 4 });
    expect((await put()).status).toBe(200);
    expect((await put()).headers['idempotent-replayed']).toBe('true');
    expect(await historyRows(run.id)).toBe(2);
    const patchKey = randomUUID();
    const patch = () =>
      t.http
        .patch(`/v1/run/${run.id}`)
        .set(bearer())
        .set('Idempotency-Key', patchKey)
        .send({ name: 'renamed' });
    const [p1, p2] = [await patch(), await patch()];
    expect(p2.body).toEqual(p1.body);
    expect(p2.headers['idempotent-replayed']).toBe('true');
    const delKey = randomUUID();
    const del = () => t.http.delete(path).set(bearer()).set('Idempotency-Key', delKey);
    const [d1, d2] = [await del(), await del()];
    expect([d1.status, d2.status]).toEqual([204, 204]);
    expect(d2.headers['idempotent-replayed']).toBe('true');
    expect(await historyRows(run.id)).toBe(3);
  });

  it('refuses a malformed key with 400', async () => {
    const { label, post } = await fixture();
    for (const key of ['', 'x'.repeat(256), 'spaced key', 'tab\tkey']) {
      const res = await post(key, { evaluation_label_id: label.id, value: 1 });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_idempotency_key');
    }
  });

  it('20 concurrent identical requests with one key make one evaluation', async () => {
    const { label, run, post } = await fixture();
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post(key, { evaluation_label_id: label.id, value: 3 })),
    );
    // Each waits for the first and answers what it answered.
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    expect(await evaluationsOf(run.id)).toHaveLength(1);
    expect(await historyRows(run.id)).toBe(1);
  });

  it('replays the first answer whatever the retry would meet now', async () => {
    const { label, run, post } = await fixture();
    const key = randomUUID();
    const first = await post(key, { evaluation_label_id: label.id, value: 2 });
    expect(first.status).toBe(201);
    // The label is archived since: a fresh request would get 422, the retry gets its answer.
    await t.http.delete(`/v1/evaluation-label/${label.id}`).set(bearer()).expect(204);
    const retry = await post(key, { evaluation_label_id: label.id, value: 2 });
    expect([retry.status, retry.headers['idempotent-replayed']]).toEqual([201, 'true']);
    expect(retry.body).toEqual(first.body);
    // And an update whose If-Match no longer matches, because the update itself moved the ETag.
    const path = `/v1/run/${run.id}/evaluation/${String(first.body.id)}`;
    const etag = (await t.http.get(path).set(bearer())).headers.etag;
    const putKey = randomUUID();
    const put = () =>
      t.http
        .put(path)
        .set(bearer())
        .set('If-Match', etag)
        .set('Idempotency-Key', putKey)
        .send({ value: 4 });
    const [p1, p2] = [await put(), await put()];
    expect([p1.status, p2.status, p2.headers['idempotent-replayed']]).toEqual([200, 200, 'true']);
    expect(await historyRows(run.id)).toBe(2);
  });

  it('makes one effect of concurrent duplicates on every kind of write', async () => {
    const { label, run, post } = await fixture();
    const created = (await post(undefined, { evaluation_label_id: label.id, value: 1 })).body;
    const path = `/v1/run/${run.id}/evaluation/${String(created.id)}`;
    const [runKey, putKey, runName] = [randomUUID(), randomUUID(), `run-${randomUUID()}`];
    const [runs, puts] = await Promise.all([
      Promise.all(
        Array.from({ length: 10 }, () =>
          t.http
            .post('/v1/runs')
            .set(bearer())
            .set('Idempotency-Key', runKey)
            .send({ name: runName }),
        ),
      ),
      Promise.all(
        Array.from({ length: 10 }, () =>
          t.http.put(path).set(bearer()).set('Idempotency-Key', putKey).send({ value: 5 }),
        ),
      ),
    ]);
    expect(runs.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(runs.map((r) => r.body.id)).size).toBe(1);
    const stored = await t.dataSource.query('SELECT id FROM runs WHERE name = $1', [runName]);
    expect(stored).toEqual([{ id: runs[0].body.id }]);
    expect(puts.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(puts.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    expect(await historyRows(run.id)).toBe(2);
  });

  it('forgets a key once it expires, and purges expired keys', async () => {
    const { label, run, post } = await fixture();
    const key = randomUUID();
    expect((await post(key, { evaluation_label_id: label.id, value: 1 })).status).toBe(201);
    await t.dataSource.query(
      "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1",
      [key],
    );
    const fresh = await post(key, { evaluation_label_id: label.id, value: 2 });
    expect(fresh.status).toBe(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    expect(await evaluationsOf(run.id)).toHaveLength(2);
    await t.dataSource.query(
      "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1",
      [key],
    );
    expect(await purgeExpiredKeys(t.dataSource)).toBeGreaterThanOrEqual(1);
    const [{ n }] = await t.dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1',
      [key],
    );
    expect(n).toBe(0);
  });
});

// Two instances can only share a database server.

describeOnServers('Idempotency-Key across two instances on $name', (db) => {
  let t: TestApp;
  let second: NestFastifyApplication;
  beforeAll(async () => {
    t = await startApp(db);
    second = await createApp(testSettings(db));
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  it('20 concurrent identical requests over both make one evaluation', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const key = randomUUID();
    const other = request(second.getHttpServer());
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? t.http : other)
          .post(`/v1/run/${run.id}/evaluations`)
          .set(bearer())
          .set('Idempotency-Key', key)
          .send({ evaluation_label_id: label.id, value: 3 }),
      ),
    );
    const ok = answers.filter((a) => a.status === 201);
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true);
    expect(new Set(ok.map((a) => a.body.id)).size).toBe(1);
    const [{ n }] = await t.dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM evaluation_changes WHERE run_id = $1',
      [run.id],
    );
    expect(n).toBe(1);
  });
});
