import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { createEvaluator, createLabel, createRun } from './support/factories.js';

describe.each(DATABASES)('evaluators on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const judge = (evaluator: string, account = 'acme') =>
    bearer(token({ account, sub: 'judge-svc', evaluator }));

  const count = async (runId: string) => {
    const [{ n }] = await t.dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM run_evaluations WHERE run_id = $1',
      [runId],
    );
    return n;
  };

  it('registers, lists, reads and updates evaluators', async () => {
    const res = await t.http
      .post('/v1/evaluators')
      .set(bearer())
      .send({
        name: 'helpfulness-judge',
        kind: 'llm_judge',
        description: 'Rates answers',
        version: '3',
        metadata: { model: 'm' },
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      account_id: 'acme',
      name: 'helpfulness-judge',
      kind: 'llm_judge',
      metadata: { model: 'm' },
      disabled_at: null,
      created_by: 'alice',
    });
    const list = await t.http.get('/v1/evaluators').set(bearer());
    expect(list.body.map((e: { id: string }) => e.id)).toContain(res.body.id);
    const patched = await t.http
      .patch(`/v1/evaluator/${res.body.id}`)
      .set(bearer())
      .send({ version: '4', description: null });
    expect(patched.body).toMatchObject({ version: '4', description: null, kind: 'llm_judge' });
    const dup = await t.http
      .post('/v1/evaluators')
      .set(bearer())
      .send({ name: 'helpfulness-judge', kind: 'code' });
    expect(dup.status).toBe(409);
    for (const body of [
      { name: 'x', kind: 'robot' },
      { kind: 'code' },
      { name: 'x', kind: 'code', metadata: 3 },
    ]) {
      const bad = await t.http.post('/v1/evaluators').set(bearer()).send(body);
      expect(bad.status).toBe(400);
    }
    const hidden = await t.http
      .get(`/v1/evaluator/${res.body.id}`)
      .set(bearer(token({ account: 'globex' })));
    expect(hidden.status).toBe(404);
  });

  it('lets a token write only for a registered evaluator of its own account', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const body = { evaluation_label_id: label.id, value: 1 };
    const unknown = await t.http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(judge(randomUUID()))
      .send(body);
    expect(unknown.status).toBe(403);
    expect(unknown.body.code).toBe('evaluator_not_registered');
    const foreign = await createEvaluator(t.http, {}, bearer(token({ account: 'globex' })));
    const crossAccount = await t.http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(judge(foreign.id))
      .send(body);
    expect(crossAccount.status).toBe(403);
    const batch = await t.http
      .post('/v1/evaluations/batch')
      .set(judge(randomUUID()))
      .send({ items: [{ run_id: run.id, ...body }] });
    expect(batch.status).toBe(403);
    expect((await t.http.post('/v1/runs').set(judge(randomUUID())).send({})).status).toBe(403);
    expect(await count(run.id)).toBe(0);

    const registered = await createEvaluator(t.http);
    const ok = await t.http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(judge(registered.id))
      .send(body);
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ created_by: null, created_by_evaluator_id: registered.id });
    // Reading needs no registration.
    expect(
      (await t.http.get(`/v1/run/${run.id}/evaluations`).set(judge(randomUUID()))).status,
    ).toBe(200);
  });

  it('deletes an unused evaluator, and disables one that wrote', async () => {
    const unused = await createEvaluator(t.http);
    expect((await t.http.delete(`/v1/evaluator/${unused.id}`).set(bearer())).status).toBe(204);
    expect((await t.http.get(`/v1/evaluator/${unused.id}`).set(bearer())).status).toBe(404);

    const used = await createEvaluator(t.http);
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const written = await t.http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(judge(used.id))
      .send({ evaluation_label_id: label.id, value: 2 });
    expect((await t.http.delete(`/v1/evaluator/${used.id}`).set(bearer())).status).toBe(204);
    const disabled = await t.http.get(`/v1/evaluator/${used.id}`).set(bearer());
    expect(disabled.body.disabled_at).toEqual(expect.any(String));
    const refused = await t.http
      .put(`/v1/run/${run.id}/evaluation/${written.body.id}`)
      .set(judge(used.id))
      .send({ value: 3 });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('evaluator_disabled');
    const still = await t.http.get(`/v1/run/${run.id}/evaluation/${written.body.id}`).set(bearer());
    expect(still.body).toMatchObject({ value: 2, created_by_evaluator_id: used.id });
  });
});
