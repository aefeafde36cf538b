import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp } from './support/app.js';
import { createRun } from './support/factories.js';

describe.each(DATABASES)('runs on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  it('records a run with every field, and reads it back', async () => {
    const body = {
      id: randomUUID(),
      name: 'nightly',
      workflow: 'triage',
      status: 'succeeded',
      inputs: { q: 'hi' },
      outputs: { answer: { text: 'hello' } },
      metadata: { commit: 'abc' },
      completed_at: '2026-11-24T10:00:00.000Z',
    };
    const res = await t.http.post('/v1/runs').set(bearer()).send(body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      ...body,
      account_id: 'acme',
      created_by: 'alice',
      created_at: expect.any(String),
      updated_at: null,
    });
    expect((await t.http.get(`/v1/run/${body.id}`).set(bearer())).body).toEqual(res.body);
  });

  it('generates an id, and refuses a duplicate id with 409', async () => {
    const run = await createRun(t.http);
    expect(run.id).toMatch(/^[0-9a-f-]{36}$/);
    const dup = await t.http.post('/v1/runs').set(bearer()).send({ id: run.id });
    expect([dup.status, dup.body.code]).toEqual([409, 'conflict']);
  });

  it('refuses bad fields with 400 naming them', async () => {
    for (const [body, field] of [
      [{ status: 'done' }, 'status'],
      [{ outputs: [1, 2] }, 'outputs'],
      [{ inputs: 'x' }, 'inputs'],
      [{ id: 'abc' }, 'id'],
      [{ completed_at: 'yesterday' }, 'completed_at'],
      [{ colour: 'red' }, 'colour'],
    ] as const) {
      const res = await t.http.post('/v1/runs').set(bearer()).send(body);
      expect(res.status).toBe(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });

  it('PATCH changes what is sent, clears what is null, keeps what is left out', async () => {
    const run = await createRun(t.http, { name: 'a', workflow: 'w', outputs: { x: 1 } });
    const res = await t.http
      .patch(`/v1/run/${run.id}`)
      .set(bearer())
      .send({ name: 'b', workflow: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'b', workflow: null, outputs: { x: 1 } });
    expect(res.body.updated_at).not.toBeNull();
    const bad = await t.http.patch(`/v1/run/${run.id}`).set(bearer()).send({ id: randomUUID() });
    expect(bad.status).toBe(400);
  });

  it('DELETE answers 204, then 404', async () => {
    const run = await createRun(t.http);
    expect((await t.http.delete(`/v1/run/${run.id}`).set(bearer())).status).toBe(204);
    expect((await t.http.get(`/v1/run/${run.id}`).set(bearer())).status).toBe(404);
    expect((await t.http.delete(`/v1/run/${run.id}`).set(bearer())).status).toBe(404);
  });

  it('lists oldest first and pages with a Link header', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createRun(t.http, { name: `r${i}` }, bearer())).id);
    const seen: string[] = [];
    let url: string | undefined = '/v1/runs?limit=2';
    while (url) {
      const res: { body: { id: string }[]; headers: Record<string, string> } = await t.http
        .get(url)
        .set(bearer());
      expect(res.body.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.map((r: { id: string }) => r.id));
      url = /^<([^>]+)>; rel="next"$/.exec(res.headers.link ?? '')?.[1];
    }
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
  });
});
