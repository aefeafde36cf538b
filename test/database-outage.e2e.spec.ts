import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { bearer, describeOnServers, startApp, TEST_SECRET, type TestApp } from './support/app.js';
import { CuttableProxy } from './support/cuttable-proxy.js';
import { createEvaluation, createLabel, createRun } from './support/factories.js';
import { ensureBuilt, mint, startServer } from './support/server.js';

// Only a server can become unreachable; the embedded database lives in the process.

describeOnServers('when the database becomes unreachable, on $name', (db) => {
  let t: TestApp;
  let proxy: CuttableProxy;
  beforeAll(async () => {
    const target = new URL(db.env.DATABASE_URL ?? '');
    proxy = new CuttableProxy(target);
    await proxy.open();
    t = await startApp(db, { DATABASE_URL: proxy.url });
  });
  afterAll(async () => {
    await t.close();
    await proxy.cut();
  });

  it('answers 503 in the error shape, never 500, and recovers when it is back', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const evaluation = await createEvaluation(t.http, run.id, {
      evaluation_label_id: label.id,
      value: 1,
    });
    await proxy.cut();

    const attempts = [
      t.http.get('/v1/runs').set(bearer()),
      t.http.get(`/v1/run/${run.id}`).set(bearer()),
      // The reads sent straight to a pooled connection (pooledReads) fail the same way.
      t.http.get(`/v1/run/${run.id}/evaluations`).set(bearer()),
      t.http.get(`/v1/run/${run.id}/evaluation/${evaluation.id}`).set(bearer()),
      t.http
        .post(`/v1/run/${run.id}/evaluations`)
        .set(bearer())
        .send({ evaluation_label_id: label.id, value: 1 }),
      t.http.post('/v1/runs').set(bearer()).send({}),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        error: expect.any(String),
        code: 'database_unavailable',
        request_id: expect.any(String),
      });
    }
    expect((await t.http.get('/health/ready')).status).toBe(503);
    expect((await t.http.get('/health/live')).status).toBe(200);

    await proxy.open();
    const back = await t.http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(bearer())
      .send({ evaluation_label_id: label.id, value: 2 });
    expect(back.status).toBe(201);
    // Nothing from the outage was half-written: only the evaluations made around it exist.
    const list = await t.http.get(`/v1/run/${run.id}/evaluations`).set(bearer());
    expect(list.body.map((e: { value: number }) => e.value)).toEqual([1, 2]);
  });
});

describeOnServers('the log of the built server while the database is down, on $name', (db) => {
  beforeAll(() => ensureBuilt());

  it('is one line when it goes and one when it is back, with the count, not a stack per request', async () => {
    const target = new URL(db.env.DATABASE_URL ?? '');
    const proxy = new CuttableProxy(target);
    await proxy.open();
    const env = { JWT_SECRET: TEST_SECRET, NODE_ENV: 'test' };
    const server = await startServer({
      ...env,
      DATABASE_URL: proxy.url,
      LOG_LEVEL: 'info',
    });
    try {
      const auth = {
        authorization: `Bearer ${mint(env, '--account', 'acme', '--sub', 'alice')}`,
        'content-type': 'application/json',
      };
      const post = (path: string, body: unknown) =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify(body),
        });
      const run = (await (await post('/v1/runs', {})).json()) as { id: string };
      const label = (await (
        await post('/v1/evaluation-labels', { name: 'ok', value_type: 'binary' })
      ).json()) as { id: string };
      const before = server.lines.length;

      await proxy.cut();
      const burst = 200;
      const statuses = await Promise.all(
        Array.from({ length: burst }, (_, i) =>
          i % 2
            ? post(`/v1/run/${run.id}/evaluations`, { evaluation_label_id: label.id, value: 1 })
            : fetch(`${server.url}/v1/runs`, { headers: auth }),
        ).map((p) => p.then((r) => r.status)),
      );
      expect(new Set(statuses)).toEqual(new Set([503]));
      await proxy.open();
      const back = await post(`/v1/run/${run.id}/evaluations`, {
        evaluation_label_id: label.id,
        value: 1,
      });
      expect(back.status).toBe(201);
      await new Promise((r) => setTimeout(r, 200));

      // Request lines carry a reqId; everything else the outage made is counted here.
      const lines = server.lines
        .slice(before)
        .map((l) => JSON.parse(l) as { level: number; msg: string; reqId?: string; err?: unknown })
        .filter((l) => l.reqId === undefined);
      expect(lines.filter((l) => l.err !== undefined || /\bat \S+ \(/.test(l.msg))).toEqual([]);
      // The background loops (outbox relay, webhook deliveries) report their own outage, once
      // each, and retry with backoff; requests are counted here.
      const problems = lines.filter(
        (l) => l.level >= 40 && !/outbox|round failed, retrying with backoff/i.test(l.msg),
      );
      expect(lines.filter((l) => /^Webhook round failed/.test(l.msg)).length).toBeLessThanOrEqual(
        1,
      );
      expect(problems.map((l) => l.msg)).toEqual([
        expect.stringContaining('The database is unreachable'),
      ]);
      expect(lines.map((l) => l.msg)).toContainEqual(
        expect.stringMatching(
          new RegExp(`reachable again after .* s; ${burst} requests were answered 503`),
        ),
      );
      expect(lines.length).toBeLessThanOrEqual(6);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await proxy.cut();
    }
  });
});
