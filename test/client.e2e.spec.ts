import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type AssayClient, createAssayClient } from '../src/client/index.js';
import { OPENAPI_FILE } from '../src/openapi/openapi.js';
import { DATABASES, startApp, type TestApp, token } from './support/app.js';

/** Every operation of the committed document, as "METHOD /path/{param}". */
const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
  paths: Record<string, object>;
};
const OPERATIONS = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
);

it('the committed client types are generated from the committed OpenAPI document', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'assay-client-')), 'schema.ts');
  execFileSync('npx', ['openapi-typescript', OPENAPI_FILE, '-o', out], {
    stdio: 'ignore',
  });
  expect(readFileSync('src/client/schema.ts', 'utf8')).toBe(readFileSync(out, 'utf8'));
});

describe.each(DATABASES)('the typed client (assay/client) against a live server on $name', (db) => {
  let t: TestApp;
  let client: AssayClient;
  /** The operations answered with a 2xx through the client. */
  const exercised = new Set<string>();

  beforeAll(async () => {
    // Webhooks may point at this machine over plain HTTP: the client spec has no receiver.
    t = await startApp(db, { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_ALLOW_HTTP: 'true' });
    await t.app.listen(0, '127.0.0.1');
    client = createAssayClient({ baseUrl: await t.app.getUrl(), token: () => token() });
    client.use({
      onResponse({ request, response, schemaPath }) {
        if (response.ok) exercised.add(`${request.method} ${schemaPath}`);
      },
    });
  });
  afterAll(() => t.close());

  it('drives labels, runs and evaluations through every operation', async () => {
    expect((await client.GET('/health/live')).response.status).toBe(200);
    expect((await client.GET('/health/ready')).response.status).toBe(200);

    const label = await client.POST('/v1/evaluation-labels', {
      body: { name: 'helpfulness', value_type: 'continuous', min_value: 0, max_value: 5 },
    });
    expect(label.response.status).toBe(201);
    const labelId = label.data!.id;
    expect((await client.GET('/v1/evaluation-labels')).data!.map((l) => l.id)).toEqual([labelId]);
    const patched = await client.PATCH('/v1/evaluation-label/{id}', {
      params: { path: { id: labelId } },
      body: { description: 'How much the answer helps' },
    });
    // PATCH answers the label, or with dry_run=true what the change would do.
    expect(patched.data).toHaveProperty('description', 'How much the answer helps');
    const preview = await client.PATCH('/v1/evaluation-label/{id}', {
      params: { path: { id: labelId }, query: { dry_run: true } },
      body: { max_value: 4 },
    });
    expect(preview.data).toEqual({
      new_version: false,
      version: 1,
      breaking_changes: [],
      outside: { count: 0, by_reason: {} },
    });
    expect(
      (await client.GET('/v1/evaluation-label/{id}', { params: { path: { id: labelId } } })).data,
    ).toEqual(patched.data);

    const run = await client.POST('/v1/runs', {
      body: { name: 'nightly', outputs: { answer: { text: 'Restart the router.' } } },
    });
    expect(run.response.status).toBe(201);
    const runId = run.data!.id;
    expect((await client.GET('/v1/runs')).data!.map((r) => r.id)).toEqual([runId]);
    const runPatched = await client.PATCH('/v1/run/{id}', {
      params: { path: { id: runId } },
      body: { status: 'succeeded' },
    });
    expect(runPatched.data!.status).toBe('succeeded');
    expect((await client.GET('/v1/run/{id}', { params: { path: { id: runId } } })).data).toEqual(
      runPatched.data,
    );

    const created = await client.POST('/v1/run/{id}/evaluations', {
      params: { path: { id: runId } },
      body: { evaluation_label_id: labelId, value: 4, output_name: 'answer', field_path: 'text' },
    });
    expect(created.response.status).toBe(201);
    const evaluation = created.data!;
    expect(evaluation).toMatchObject({ run_id: runId, value: 4, field_path: 'text' });
    const list = await client.GET('/v1/run/{id}/evaluations', {
      params: { path: { id: runId }, query: { evaluation_label_id: labelId, limit: 10 } },
    });
    expect(list.data).toEqual([evaluation]);
    const item = { run_id: runId, evaluation_id: evaluation.id };
    expect(
      (await client.GET('/v1/run/{run_id}/evaluation/{evaluation_id}', { params: { path: item } }))
        .data,
    ).toEqual(evaluation);
    const updated = await client.PUT('/v1/run/{run_id}/evaluation/{evaluation_id}', {
      params: { path: item },
      body: { value: 3.5 },
    });
    expect(updated.data!.value).toBe(3.5);
    const history = await client.GET('/v1/run/{run_id}/evaluation/{evaluation_id}/history', {
      params: { path: item },
    });
    expect(history.data!.map((c) => [c.operation, c.old_value, c.new_value])).toEqual([
      ['create', null, 4],
      ['update', 4, 3.5],
    ]);
    const deleted = await client.DELETE('/v1/run/{run_id}/evaluation/{evaluation_id}', {
      params: { path: item },
    });
    expect(deleted.response.status).toBe(204);

    const batch = await client.POST('/v1/evaluations/batch', {
      body: {
        atomic: true,
        items: [
          { run_id: runId, evaluation_label_id: labelId, value: 1 },
          { run_id: runId, evaluation_label_id: labelId, value: 2 },
        ],
      },
    });
    expect(batch.response.status).toBe(201);

    const evaluator = await client.POST('/v1/evaluators', {
      body: { name: 'judge', kind: 'llm_judge' },
    });
    expect(evaluator.response.status).toBe(201);
    const evaluatorId = evaluator.data!.id;
    expect((await client.GET('/v1/evaluators')).data!.map((e) => e.id)).toEqual([evaluatorId]);
    const renamed = await client.PATCH('/v1/evaluator/{id}', {
      params: { path: { id: evaluatorId } },
      body: { version: '2' },
    });
    expect(renamed.data!.version).toBe('2');
    expect(
      (await client.GET('/v1/evaluator/{id}', { params: { path: { id: evaluatorId } } })).data,
    ).toEqual(renamed.data);
    expect(
      (await client.DELETE('/v1/evaluator/{id}', { params: { path: { id: evaluatorId } } }))
        .response.status,
    ).toBe(204);

    const events = await client.GET('/v1/events', {
      params: { query: { limit: 1000 } },
      headers: { Accept: 'application/json' },
    });
    expect(events.response.status).toBe(200);
    expect(events.data!.map((e) => e.type)).toContain('evaluation.updated');

    const ofLabel = { params: { path: { id: labelId } } };
    const stats = await client.GET('/v1/evaluation-label/{id}/stats', ofLabel);
    expect(stats.data!.groups[0].n).toBe(2);
    const versions = await client.GET('/v1/evaluation-label/{id}/versions', ofLabel);
    expect(versions.data!.map((v) => [v.version, v.evaluation_count])).toEqual([[1, 2]]);
    const compare = await client.GET('/v1/evaluation-label/{id}/compare', ofLabel);
    expect(compare.response.status).toBe(200);
    const paired = await client.GET('/v1/evaluation-label/{id}/compare', {
      params: { path: { id: labelId }, query: { pair_by: 'inputs', regressions_limit: 5 } },
    });
    expect([paired.response.status, paired.data!.pair_by]).toEqual([200, 'inputs']);
    const agreement = await client.GET('/v1/evaluation-label/{id}/agreement', {
      params: { path: { id: labelId }, query: { 'a.source': 'human', 'b.source': 'evaluator' } },
    });
    expect([agreement.response.status, agreement.data!.n_pairs]).toEqual([200, 0]);
    const summary = await client.GET('/v1/run/{id}/evaluations/summary', {
      params: { path: { id: runId } },
    });
    expect(summary.response.status).toBe(200);
    const overview = await client.GET('/v1/evaluation-labels/stats', {
      params: { query: { interval: 'week', source: 'human' } },
    });
    expect(overview.data!.items.map((i) => [i.label.id, i.figures.n])).toEqual([[labelId, 2]]);
    const evaluators = await client.GET('/v1/evaluators/stats', {
      params: { query: { evaluation_label_id: labelId } },
    });
    // The one evaluator was deleted before it wrote.
    expect(evaluators.data!.items).toEqual([]);
    const across = await client.GET('/v1/evaluations', {
      params: { query: { evaluation_label_id: labelId } },
    });
    expect(across.response.status).toBe(200);
    expect((across.data as { value: number }[]).map((e) => e.value)).toEqual([1, 2]);

    expect(
      (await client.DELETE('/v1/evaluation-label/{id}', { params: { path: { id: labelId } } }))
        .response.status,
    ).toBe(204);
    expect(
      (await client.DELETE('/v1/run/{id}', { params: { path: { id: runId } } })).response.status,
    ).toBe(204);
  });

  it('drives review queues through every operation', async () => {
    const label = await client.POST('/v1/evaluation-labels', {
      body: { name: 'correct', value_type: 'binary' },
    });
    const labelId = label.data!.id;
    const run = await client.POST('/v1/runs', { body: { name: 'to review' } });
    const runId = run.data!.id;
    const queue = await client.POST('/v1/review-queues', {
      body: { name: 'week 49', label_ids: [labelId], reviews_per_item: 1 },
    });
    expect(queue.response.status).toBe(201);
    const ofQueue = { params: { path: { id: queue.data!.id } } };
    expect((await client.GET('/v1/review-queues')).data!.map((q) => q.id)).toEqual([
      queue.data!.id,
    ]);
    const patched = await client.PATCH('/v1/review-queue/{id}', {
      ...ofQueue,
      body: { instructions: 'Is the answer right?' },
    });
    expect(patched.data!.instructions).toBe('Is the answer right?');
    expect((await client.GET('/v1/review-queue/{id}', ofQueue)).data).toEqual(patched.data);
    const added = await client.POST('/v1/review-queue/{id}/items', {
      ...ofQueue,
      body: { items: [{ run_id: runId }] },
    });
    const itemId = added.data!.added[0].id;
    const items = await client.GET('/v1/review-queue/{id}/items', {
      params: { path: ofQueue.params.path, query: { status: 'pending' } },
    });
    expect(items.data!.map((i) => i.id)).toEqual([itemId]);
    const claimed = await client.POST('/v1/review-queue/{id}/claim', ofQueue);
    expect(claimed.data!.item.id).toBe(itemId);
    const ofItem = { params: { path: { id: queue.data!.id, item_id: itemId } } };
    const released = await client.POST('/v1/review-queue/{id}/item/{item_id}/release', ofItem);
    expect(released.data!.reserved).toBe(0);
    const review = await client.POST('/v1/review-queue/{id}/item/{item_id}/reviews', {
      ...ofItem,
      body: { evaluations: [{ evaluation_label_id: labelId, value: 1 }] },
    });
    expect([review.response.status, review.data!.item_completed]).toEqual([201, true]);
    const progress = await client.GET('/v1/review-queue/{id}/progress', ofQueue);
    expect(progress.data!.items.completed).toBe(1);
    const agreement = await client.GET('/v1/review-queue/{id}/agreement', ofQueue);
    expect(agreement.data!.labels.map((l) => l.alpha)).toEqual([null]);
    // Reviewed: archived, not removed.
    expect((await client.DELETE('/v1/review-queue/{id}', ofQueue)).response.status).toBe(204);
    expect((await client.GET('/v1/review-queue/{id}', ofQueue)).data!.archived_at).not.toBeNull();
  });

  it('drives webhooks: register, list, change, rotate, deliveries, replay, delete', async () => {
    const created = await client.POST('/v1/webhooks', {
      body: { url: 'http://127.0.0.1:9/hook', event_types: ['evaluation.created'] },
    });
    expect(created.response.status).toBe(201);
    expect(created.data!.secret).toMatch(/^whsec_/);
    const ofHook = { params: { path: { id: created.data!.id } } };
    const listed = await client.GET('/v1/webhooks');
    expect(listed.data!.map((w) => w.id)).toContain(created.data!.id);
    expect((await client.GET('/v1/webhook/{id}', ofHook)).data!.url).toBe(
      'http://127.0.0.1:9/hook',
    );
    const patched = await client.PATCH('/v1/webhook/{id}', {
      ...ofHook,
      body: { description: 'the CI gate', enabled: false },
    });
    expect([patched.data!.description, patched.data!.enabled]).toEqual(['the CI gate', false]);
    const rotated = await client.POST('/v1/webhook/{id}/rotate-secret', ofHook);
    expect(rotated.data!.secret).not.toBe(created.data!.secret);
    const deliveries = await client.GET('/v1/webhook/{id}/deliveries', ofHook);
    expect(deliveries.response.status).toBe(200);
    const replay = await client.POST('/v1/webhook/{id}/replay', {
      ...ofHook,
      body: { since: '2026-01-01T00:00:00Z' },
    });
    expect(replay.response.status).toBe(202);
    expect((await client.DELETE('/v1/webhook/{id}', ofHook)).response.status).toBe(204);
  });

  it("answers errors as Assay's error body, typed", async () => {
    const missing = await client.GET('/v1/run/{id}', {
      params: { path: { id: '9b2f1c3e-6a3d-4f0b-8e2a-5c7d9e1f3a4b' } },
    });
    expect(missing.response.status).toBe(404);
    expect(missing.data).toBeUndefined();
    expect(missing.error).toMatchObject({ code: 'not_found', request_id: expect.any(String) });
    const anonymous = createAssayClient({ baseUrl: await t.app.getUrl() });
    const refused = await anonymous.GET('/v1/runs');
    expect([refused.response.status, refused.error?.code]).toEqual([401, 'unauthorized']);
  });

  it('has exercised every operation of the OpenAPI document (a new route needs a client test)', () => {
    expect(OPERATIONS.length).toBeGreaterThanOrEqual(25);
    expect(OPERATIONS.filter((op) => !exercised.has(op))).toEqual([]);
  });
});
