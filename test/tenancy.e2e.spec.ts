import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { createEvaluation, createLabel, createRun } from './support/factories.js';

describe.each(DATABASES)('tenant isolation on $name', (db) => {
  let t: TestApp;
  const acme = bearer(token({ account: 'acme' }));
  const globex = bearer(token({ account: 'globex' }));
  let run: { id: string };
  let label: { id: string };
  let evaluation: { id: string };

  beforeAll(async () => {
    t = await startApp(db);
    label = await createLabel(t.http, {}, acme);
    run = await createRun(t.http, {}, acme);
    evaluation = await createEvaluation(
      t.http,
      run.id,
      { evaluation_label_id: label.id, value: 1 },
      acme,
    );
  });
  afterAll(() => t.close());

  it("answers every route on another account's rows with 404, exactly as for a missing row", async () => {
    const e = `/v1/run/${run.id}/evaluation/${evaluation.id}`;
    const attempts: [string, string, object?][] = [
      ['get', `/v1/run/${run.id}`],
      ['patch', `/v1/run/${run.id}`, { name: 'stolen' }],
      ['delete', `/v1/run/${run.id}`],
      ['get', `/v1/evaluation-label/${label.id}`],
      ['patch', `/v1/evaluation-label/${label.id}`, { name: 'stolen' }],
      ['delete', `/v1/evaluation-label/${label.id}`],
      ['post', `/v1/run/${run.id}/evaluations`, { evaluation_label_id: label.id, value: 1 }],
      ['get', `/v1/run/${run.id}/evaluations`],
      ['get', e],
      ['put', e, { value: 0 }],
      ['delete', e],
      ['get', `${e}/history`],
    ];
    for (const [method, path, body] of attempts) {
      const http = t.http as unknown as Record<
        string,
        (p: string) => {
          set(h: object): {
            send(b?: object): Promise<{ status: number; body: { code: string; error: string } }>;
          };
        }
      >;
      const theirs = await http[method](path).set(globex).send(body);
      expect([method, path, theirs.status, theirs.body.code]).toEqual([
        method,
        path,
        404,
        'not_found',
      ]);
      // The same answer as for an id nobody has.
      const missing = await http[method](
        path.replace(run.id, randomUUID()).replace(label.id, randomUUID()),
      )
        .set(acme)
        .send(body);
      expect(theirs.body.error.replace(/[0-9a-f-]{36}/g, 'ID')).toEqual(
        missing.body.error.replace(/[0-9a-f-]{36}/g, 'ID'),
      );
    }
    // A label of one account cannot score a run of another.
    const mine = await createRun(t.http, {}, globex);
    const cross = await t.http
      .post(`/v1/run/${mine.id}/evaluations`)
      .set(globex)
      .send({ evaluation_label_id: label.id, value: 1 });
    expect(cross.status).toBe(404);
  });

  it('lists only the caller’s rows', async () => {
    const runs = await t.http.get('/v1/runs').set(globex);
    expect(runs.body.map((r: { id: string }) => r.id)).not.toContain(run.id);
    const labels = await t.http.get('/v1/evaluation-labels').set(globex);
    expect(labels.body.map((l: { id: string }) => l.id)).not.toContain(label.id);
  });

  it('left every row of the owner untouched', async () => {
    const got = await t.http.get(`/v1/run/${run.id}/evaluation/${evaluation.id}`).set(acme);
    expect(got.body.value).toBe(1);
    expect((await t.http.get(`/v1/run/${run.id}`).set(acme)).body.name).toBeNull();
    expect(
      (await t.http.get(`/v1/evaluation-label/${label.id}`).set(acme)).body.archived_at,
    ).toBeNull();
  });

  it('lets two accounts use the same run id without learning of each other', async () => {
    const id = randomUUID();
    expect((await t.http.post('/v1/runs').set(acme).send({ id })).status).toBe(201);
    expect((await t.http.post('/v1/runs').set(globex).send({ id })).status).toBe(201);
    expect((await t.http.post('/v1/runs').set(acme).send({ id })).status).toBe(409);
  });
});
