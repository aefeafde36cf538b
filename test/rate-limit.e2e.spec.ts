import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { createLabel, createRun } from './support/factories.js';

const WINDOW_S = 3;

describe.each(DATABASES)('rate limiting on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db, { RATE_LIMIT: '5', RATE_LIMIT_WINDOW: String(WINDOW_S) });
  });
  afterAll(() => t.close());

  it('counts per account, answers 429 with Retry-After, and lets the account in again when its window ends', async () => {
    const account = `acme-${randomUUID()}`;
    const alice = bearer(token({ account, sub: 'alice' }));
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ok = await t.http.get('/v1/runs').set(alice);
      expect([ok.status, ok.headers['x-ratelimit-limit']]).toEqual([200, '5']);
      remaining.push(ok.headers['x-ratelimit-remaining']);
      expect(Number(ok.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(1);
      expect(Number(ok.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(WINDOW_S);
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);

    const refused = await t.http.get('/v1/runs').set(alice);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      error: expect.stringMatching(
        new RegExp(
          `^Account "${account}" has made more than 5 requests in 3 s; retry after [123] s`,
        ),
      ),
      code: 'rate_limited',
      request_id: refused.headers['x-request-id'],
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);

    // The limit is the account's, whoever in it calls, and on every route.
    const bob = bearer(token({ account, sub: 'bob' }));
    expect((await t.http.get('/v1/evaluation-labels').set(bob)).status).toBe(429);
    // Other accounts, health probes and callers without a valid token are answered as ever.
    expect((await t.http.get('/v1/runs').set(bearer(token({ account: 'globex' })))).status).toBe(
      200,
    );
    expect((await t.http.get('/health/live')).status).toBe(200);
    expect((await t.http.get('/health/ready')).status).toBe(200);
    expect((await t.http.get('/v1/runs')).status).toBe(401);

    await sleep(retryAfter * 1000 + 100);
    expect((await t.http.get('/v1/runs').set(alice)).status).toBe(200);
  });

  it('refuses before anything is written', async () => {
    const account = `acme-${randomUUID()}`;
    const auth = bearer(token({ account }));
    const label = await createLabel(t.http, {}, auth);
    const run = await createRun(t.http, {}, auth);
    const post = () =>
      t.http
        .post(`/v1/run/${run.id}/evaluations`)
        .set(auth)
        .send({ evaluation_label_id: label.id, value: 1 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post()).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    const [{ count }] = await t.dataSource.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM run_evaluations WHERE account_id = $1',
      [account],
    );
    const [{ changes }] = await t.dataSource.query<{ changes: number }[]>(
      'SELECT count(*)::int AS changes FROM evaluation_changes WHERE account_id = $1',
      [account],
    );
    expect([count, changes]).toEqual([3, 3]);
  });
});

describe.each(DATABASES)('with RATE_LIMIT=0 on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db, { RATE_LIMIT: '0', RATE_LIMIT_WINDOW: '1' });
  });
  afterAll(() => t.close());

  it('limits nothing and sends no rate-limit headers', async () => {
    const auth = bearer(token({ account: `acme-${randomUUID()}` }));
    for (let i = 0; i < 20; i++) {
      const r = await t.http.get('/v1/runs').set(auth);
      expect([r.status, r.headers['x-ratelimit-limit']]).toEqual([200, undefined]);
    }
  });
});
