import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  bearer,
  DATABASES,
  describeOnServers,
  startApp,
  type TestApp,
  token,
} from './support/app.js';
import { createEvaluation, createLabel, createRun, scoredRun } from './support/factories.js';
import { hasMetric, sample } from './support/metrics.js';

const DURATION = 'http_server_request_duration_seconds';
const WRITTEN = 'assay_evaluations_written_total';

describe.each(DATABASES)('GET /metrics on $name', (db) => {
  let t: TestApp;
  const scrape = async () => {
    const r = await t.http.get('/metrics');
    expect(r.status).toBe(200);
    return r.text;
  };
  beforeAll(async () => {
    t = await startApp(db, { RATE_LIMIT: '10', RATE_LIMIT_WINDOW: '60' });
  });
  afterAll(() => t.close());

  it('answers Prometheus text without a token, never rate limited, and is not in the API document', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await t.http.get('/metrics');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(r.headers['x-ratelimit-limit']).toBeUndefined();
    }
    const text = await scrape();
    // Process metrics, from prom-client's default collectors.
    for (const name of ['process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes']) {
      expect(hasMetric(text, name)).toBe(true);
    }
    const doc = (await t.http.get('/docs-json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.includes('metrics'))).toEqual([]);
  });

  it('times requests by method, route template and status, never by raw URL', async () => {
    const auth = bearer(token({ account: `acme-${randomUUID()}` }));
    const label = await createLabel(t.http, {}, auth);
    const run = await createRun(t.http, {}, auth);
    const route = { http_route: '/v1/run/:id/evaluations', http_request_method: 'POST' };
    const before = await scrape();
    await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 1 }, auth);
    const unknown = `/nowhere-${randomUUID()}`;
    expect((await t.http.get(unknown)).status).toBe(404);
    expect((await t.http.post(`/v1/run/${run.id}/evaluations`).send({})).status).toBe(401);
    const after = await scrape();

    const created = { ...route, http_response_status_code: '201' };
    expect(sample(after, `${DURATION}_count`, created)).toBe(
      sample(before, `${DURATION}_count`, created) + 1,
    );
    expect(sample(after, `${DURATION}_sum`, created)).toBeGreaterThan(
      sample(before, `${DURATION}_sum`, created),
    );
    const refused = { ...route, http_response_status_code: '401' };
    expect(sample(after, `${DURATION}_count`, refused)).toBe(
      sample(before, `${DURATION}_count`, refused) + 1,
    );
    const unmatched = { http_route: 'unmatched', http_response_status_code: '404' };
    expect(sample(after, `${DURATION}_count`, unmatched)).toBe(
      sample(before, `${DURATION}_count`, unmatched) + 1,
    );
    // The buckets are cumulative; +Inf holds every request.
    expect(sample(after, `${DURATION}_bucket`, { ...created, le: '+Inf' })).toBe(
      sample(after, `${DURATION}_count`, created),
    );
    expect(after).not.toContain(run.id);
    expect(after).not.toContain(unknown);
  });

  it('counts writes of evaluations by outcome', async () => {
    const auth = bearer(token({ account: `acme-${randomUUID()}` }));
    const before = await scrape();
    const { label, path } = await scoredRun(t.http, auth);
    expect((await t.http.put(path).set(auth).send({ value: 2 })).status).toBe(200);
    expect((await t.http.put(path).set(auth).send({ value: 9 })).status).toBe(422);
    expect(
      (
        await t.http
          .post(`/v1/run/${randomUUID()}/evaluations`)
          .set(auth)
          .send({ evaluation_label_id: label.id, value: 1 })
      ).status,
    ).toBe(404);
    expect((await t.http.delete(path).set(auth)).status).toBe(204);
    const after = await scrape();
    const delta = (outcome: string) =>
      sample(after, WRITTEN, { outcome }) - sample(before, WRITTEN, { outcome });
    expect(['created', 'updated', 'deleted', 'rejected'].map(delta)).toEqual([1, 1, 1, 2]);
  });

  it('counts rate-limit refusals', async () => {
    const auth = bearer(token({ account: `acme-${randomUUID()}` }));
    const before = sample(await scrape(), 'assay_rate_limit_refusals_total');
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await t.http.get('/v1/runs').set(auth)).status);
    expect(statuses).toEqual([...Array<number>(10).fill(200), 429, 429]);
    expect(sample(await scrape(), 'assay_rate_limit_refusals_total')).toBe(before + 2);
    // Without REDIS_URL the limit is this process's own.
    expect(sample(await scrape(), 'assay_rate_limit_shared')).toBe(0);
  });

  it(`reports the database pool${db.env.DATABASE_URL ? '' : ' only on a server: none here'}`, async () => {
    const text = await scrape();
    if (!db.env.DATABASE_URL) {
      expect(hasMetric(text, 'db_client_connection_count')).toBe(false);
      return;
    }
    expect(sample(text, 'db_client_connection_max')).toBe(32);
    const used = sample(text, 'db_client_connection_count', { db_client_connection_state: 'used' });
    const idle = sample(text, 'db_client_connection_count', { db_client_connection_state: 'idle' });
    expect(used + idle).toBeGreaterThanOrEqual(1);
    expect(used + idle).toBeLessThanOrEqual(32);
    expect(hasMetric(text, 'db_client_connection_pending_requests')).toBe(true);
  });
});

describe('with METRICS_ENABLED=false', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(DATABASES[0], { METRICS_ENABLED: 'false' });
  });
  afterAll(() => t.close());

  it('serves no /metrics and still serves the API', async () => {
    expect((await t.http.get('/metrics')).status).toBe(404);
    expect((await t.http.get('/v1/runs').set(bearer())).status).toBe(200);
  });
});

describeOnServers('with DB_POOL_SIZE=4 on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db, { DB_POOL_SIZE: '4' });
  });
  afterAll(() => t.close());

  it('keeps at most 4 connections, even under 20 requests at once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => t.http.get('/v1/runs').set(bearer())),
    );
    expect(answers.map((a) => a.status)).toEqual(Array<number>(20).fill(200));
    const text = (await t.http.get('/metrics')).text;
    expect(sample(text, 'db_client_connection_max')).toBe(4);
    const open = ['used', 'idle'].map((state) =>
      sample(text, 'db_client_connection_count', { db_client_connection_state: state }),
    );
    expect(open[0] + open[1]).toBeLessThanOrEqual(4);
  });
});

describe('the outbox gauges, with the broker unreachable', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Nothing listens on port 1: every relay round fails, so events wait in the outbox.
    t = await startApp(DATABASES[0], { NATS_URL: 'nats://127.0.0.1:1' });
  });
  afterAll(() => t.close());

  it('report the backlog and how long its oldest event has waited', async () => {
    const scrape = async () => (await t.http.get('/metrics')).text;
    expect(sample(await scrape(), 'assay_outbox_backlog')).toBe(0);
    await createRun(t.http);
    await createRun(t.http);
    expect(sample(await scrape(), 'assay_outbox_backlog')).toBe(2);
    await new Promise((r) => setTimeout(r, 1100));
    expect(sample(await scrape(), 'assay_outbox_oldest_event_age_seconds')).toBeGreaterThanOrEqual(
      1,
    );
  });
});
