import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type request from 'supertest';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { type Answer, AnswerChecker } from './support/openapi-answers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
type Method = (typeof METHODS)[number];

/** One request of an operation: its path template filled with `params`. */
interface Call {
  method: Method;
  template: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  /** Sent as is, with its own Content-Type. */
  raw?: { type: string; text: string };
}

const BODY_LIMIT = 16 * 1024;
const pathOf = ({ template, params = {} }: Call) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]));
const hasIds = (template: string) => template.includes('{');

/** Every operation of the document, as `METHOD template`. */
const operationsOf = (doc: Json): string[] =>
  Object.entries(doc.paths as Json).flatMap(([template, item]) =>
    METHODS.filter((m) => (item as Json)[m]).map((m) => `${m.toUpperCase()} ${template}`),
  );

/** Reads any body as text, whatever its type, so that every answer is checked the same way. */
function asText(res: http.IncomingMessage, done: (err: Error | null, body: string) => void) {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (text += chunk));
  res.on('end', () => done(null, text));
}

/**
 * Drives operations over HTTP and checks every answer against the document served at
 * /docs-json; remembers which operation answered which status and media type.
 */
class LiveDocument {
  readonly seen = new Map<string, Set<string>>();
  /** A request of each operation that succeeded, to send again changed. */
  readonly succeeded = new Map<string, Call>();

  private constructor(
    private readonly http: ReturnType<typeof request>,
    readonly doc: Json,
    private readonly checker: AnswerChecker,
  ) {}

  static async of(t: TestApp): Promise<LiveDocument> {
    const doc = (await t.http.get('/docs-json')).body as Json;
    return new LiveDocument(t.http, doc, new AnswerChecker(doc));
  }

  check(method: Method, template: string, answer: Answer): void {
    expect(this.checker.problems(method, template, answer)).toEqual([]);
    const op = `${method.toUpperCase()} ${template}`;
    const type = String(answer.headers['content-type'] ?? '').split(';')[0];
    const seen = this.seen.get(op) ?? new Set<string>();
    this.seen.set(op, seen.add(`${answer.status} ${type}`.trim()));
  }

  async send(call: Call, status?: number): Promise<Answer & { json: Json }> {
    const { method, query, headers = {}, body, raw } = call;
    let req = this.http[method](pathOf(call))
      .set({ ...bearer(), ...headers })
      .buffer(true)
      .parse(asText as never); // superagent hands its parser Node's response
    if (query) req = req.query(query);
    if (raw) req = req.set('Content-Type', raw.type).send(raw.text);
    else if (body !== undefined) req = req.send(body as object);
    const res = await req;
    const answer = { status: res.status, headers: res.headers, text: res.body as string };
    this.check(method, call.template, answer);
    if (status !== undefined) expect([pathOf(call), res.status]).toEqual([pathOf(call), status]);
    if (res.status < 300) this.succeeded.set(`${method.toUpperCase()} ${call.template}`, call);
    const type = String(res.headers['content-type'] ?? '');
    return { ...answer, json: type.startsWith('application/json') ? JSON.parse(answer.text) : {} };
  }
}

/** What a Server-Sent Events client gets first: the status, headers and first chunk. */
function firstOfStream(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        port,
        host: '127.0.0.1',
        path,
        headers: { ...bearer(), Accept: 'text/event-stream' },
      },
      (res) => {
        res.setEncoding('utf8');
        res.once('data', (chunk: string) => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: chunk });
          req.destroy();
        });
      },
    );
    req.on('error', reject);
  });
}

describe.each(DATABASES)('every operation answers as the served document says ($name)', (db) => {
  let t: TestApp;
  let live: LiveDocument;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // Webhooks go to a closed port on this machine, over plain http.
    t = await startApp(db, {
      BODY_LIMIT: String(BODY_LIMIT),
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_ALLOW_HTTP: 'true',
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    live = await LiveDocument.of(t);
  });
  afterAll(() => t.close());

  it('health probes', async () => {
    await live.send({ method: 'get', template: '/health/live' }, 200);
    await live.send({ method: 'get', template: '/health/ready' }, 200);
  });

  /** Creates a resource, lists its kind, reads it and changes it; answers its id. */
  async function createListReadChange(
    collection: string,
    item: string,
    body: Json,
    change: Json,
  ): Promise<string> {
    const created = await live.send({ method: 'post', template: collection, body }, 201);
    const params = { id: created.json.id as string };
    await live.send({ method: 'get', template: collection }, 200);
    await live.send({ method: 'get', template: item, params }, 200);
    await live.send({ method: 'patch', template: item, params, body: change }, 200);
    return params.id;
  }

  it('labels, runs and evaluators: create, list, read, change', async () => {
    ids.label = await createListReadChange(
      '/v1/evaluation-labels',
      '/v1/evaluation-label/{id}',
      { name: 'helpfulness', value_type: 'continuous', min_value: 0, max_value: 5 },
      { description: 'Did it help?' },
    );
    ids.run = await createListReadChange(
      '/v1/runs',
      '/v1/run/{id}',
      { workflow: 'triage', outputs: { answer: { text: 'Restart it.' } } },
      { name: 'n' },
    );
    ids.evaluator = await createListReadChange(
      '/v1/evaluators',
      '/v1/evaluator/{id}',
      { name: 'judge', kind: 'llm_judge' },
      { version: '2' },
    );
    const unused = await live.send(
      {
        method: 'post',
        template: '/v1/evaluation-labels',
        body: { name: 'unused', value_type: 'binary' },
      },
      201,
    );
    ids.unused = unused.json.id as string;
  });

  it('webhooks: register, list, read, change, rotate, attempts, replay', async () => {
    ids.webhook = await createListReadChange(
      '/v1/webhooks',
      '/v1/webhook/{id}',
      { url: 'http://127.0.0.1:9/hook', event_types: ['label.deleted'] },
      { description: 'dashboard' },
    );
    const params = { id: ids.webhook };
    await live.send({ method: 'post', template: '/v1/webhook/{id}/rotate-secret', params }, 200);
    await live.send({ method: 'get', template: '/v1/webhook/{id}/deliveries', params }, 200);
    await live.send(
      {
        method: 'post',
        template: '/v1/webhook/{id}/replay',
        params,
        body: { since: new Date().toISOString() },
      },
      202,
    );
  });

  it('a comparison with too little data answers null difference and test', async () => {
    const compare = await live.send(
      {
        method: 'get',
        template: '/v1/evaluation-label/{id}/compare',
        params: { id: ids.label },
      },
      200,
    );
    expect([compare.json.verdict, compare.json.difference, compare.json.test]).toEqual([
      'insufficient_data',
      null,
      null,
    ]);
  });

  it('evaluations: create one and many, list, read, change, history, export', async () => {
    const evaluations = '/v1/run/{id}/evaluations';
    const created = await live.send(
      {
        method: 'post',
        template: evaluations,
        params: { id: ids.run },
        body: { evaluation_label_id: ids.label, value: 4, output_name: 'answer' },
      },
      201,
    );
    ids.evaluation = created.json.id as string;
    const item = { run_id: ids.run, evaluation_label_id: ids.label };
    await live.send(
      {
        method: 'post',
        template: '/v1/evaluations/batch',
        body: {
          items: [
            { ...item, value: 2 },
            { ...item, value: 3 },
          ],
        },
      },
      201,
    );
    const partly = await live.send(
      {
        method: 'post',
        template: '/v1/evaluations/batch',
        body: {
          atomic: false,
          items: [
            { ...item, value: 1 },
            { ...item, value: 9 },
          ],
        },
      },
      207,
    );
    expect((partly.json as unknown as Json[]).map((r) => r.status)).toEqual([201, 422]);

    await live.send({ method: 'get', template: evaluations, params: { id: ids.run } }, 200);
    const one = {
      template: '/v1/run/{run_id}/evaluation/{evaluation_id}',
      params: { run_id: ids.run, evaluation_id: ids.evaluation },
    };
    await live.send({ method: 'get', ...one }, 200);
    await live.send({ method: 'put', ...one, body: { value: 5 } }, 200);
    await live.send(
      { method: 'get', template: `${one.template}/history`, params: one.params },
      200,
    );

    for (const accept of ['application/json', 'application/x-ndjson', 'text/csv']) {
      await live.send(
        { method: 'get', template: '/v1/evaluations', headers: { Accept: accept } },
        200,
      );
    }
  });

  it('statistics, and a comparison with data', async () => {
    const ofLabel = { params: { id: ids.label } };
    const stats = await live.send(
      { method: 'get', template: '/v1/evaluation-label/{id}/stats', ...ofLabel },
      200,
    );
    const compare = await live.send(
      { method: 'get', template: '/v1/evaluation-label/{id}/compare', ...ofLabel },
      200,
    );
    expect(compare.json.test).toEqual(expect.objectContaining({ method: 'welch_t' }));
    const agreement = await live.send(
      {
        method: 'get',
        template: '/v1/evaluation-label/{id}/agreement',
        query: { 'a.source': 'human', 'b.created_by': 'alice' },
        ...ofLabel,
      },
      200,
    );
    expect(agreement.json.n_pairs).toBeGreaterThanOrEqual(2);
    // Two cases, each evaluated by a baseline run and a candidate run with the same inputs.
    for (const [workflow, q, value] of [
      ['paired-a', 1, 2],
      ['paired-b', 1, 3],
      ['paired-a', 2, 4],
      ['paired-b', 2, 3.5],
    ] as const) {
      const run = await live.send(
        { method: 'post', template: '/v1/runs', body: { workflow, inputs: { q } } },
        201,
      );
      await live.send(
        {
          method: 'post',
          template: '/v1/run/{id}/evaluations',
          params: { id: run.json.id as string },
          body: { evaluation_label_id: ids.label, value },
        },
        201,
      );
    }
    const paired = await live.send(
      {
        method: 'get',
        template: '/v1/evaluation-label/{id}/compare',
        query: {
          'baseline.workflow': 'paired-a',
          'candidate.workflow': 'paired-b',
          pair_by: 'inputs',
        },
        ...ofLabel,
      },
      200,
    );
    expect(paired.json.paired_test).toEqual(expect.objectContaining({ method: 'paired_t' }));
    expect(paired.json.regressions).toHaveLength(1);
    await live.send(
      { method: 'get', template: '/v1/run/{id}/evaluations/summary', params: { id: ids.run } },
      200,
    );
    const overview = await live.send(
      { method: 'get', template: '/v1/evaluation-labels/stats', query: { interval: 'hour' } },
      200,
    );
    const ofOverview = overview.json.items.find((i: Json) => i.label.id === ids.label);
    // Four more evaluations since /stats answered.
    expect(ofOverview.figures.n).toBe(stats.json.groups[0].n + 4);
    const evaluators = await live.send(
      { method: 'get', template: '/v1/evaluators/stats', query: { limit: '1' } },
      200,
    );
    expect(evaluators.json.items.map((i: Json) => i.evaluator.id)).toEqual([ids.evaluator]);
  });

  it('label versions: a dry run, a new version, the versions, and statistics by version', async () => {
    const ofLabel = { template: '/v1/evaluation-label/{id}', params: { id: ids.label } };
    const preview = await live.send(
      { method: 'patch', ...ofLabel, query: { dry_run: 'true' }, body: { max_value: 4.5 } },
      200,
    );
    expect(preview.json.new_version).toBe(true);
    const changed = await live.send({ method: 'patch', ...ofLabel, body: { max_value: 4.5 } }, 200);
    expect(changed.json.version).toBe(2);
    const versions = await live.send(
      { method: 'get', template: `${ofLabel.template}/versions`, params: ofLabel.params },
      200,
    );
    expect((versions.json as unknown as Json[]).map((v) => v.version)).toEqual([1, 2]);
    const stats = await live.send(
      {
        method: 'get',
        template: `${ofLabel.template}/stats`,
        params: ofLabel.params,
        query: { group_by: 'label_version' },
      },
      200,
    );
    expect(stats.json.groups).toEqual([expect.objectContaining({ key: { label_version: 1 } })]);
    await live.send(
      {
        method: 'get',
        template: `${ofLabel.template}/stats`,
        params: ofLabel.params,
        query: { label_version: '3' },
      },
      400,
    );
  });

  it('events, as a JSON page and as a stream', async () => {
    await live.send(
      { method: 'get', template: '/v1/events', headers: { Accept: 'application/json' } },
      200,
    );
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    live.check('get', '/v1/events', await firstOfStream(port, '/v1/events'));
  });

  it('review queues: create, list, read, change, items, claims, reviews, progress, agreement', async () => {
    ids.queue = await createListReadChange(
      '/v1/review-queues',
      '/v1/review-queue/{id}',
      { name: 'week 49', label_ids: [ids.label], reviews_per_item: 2 },
      { instructions: 'Read it all.' },
    );
    const ofQueue = { params: { id: ids.queue } };
    const added = await live.send(
      {
        method: 'post',
        template: '/v1/review-queue/{id}/items',
        ...ofQueue,
        body: { items: [{ run_id: ids.run, output_name: 'answer' }] },
      },
      201,
    );
    ids.item = added.json.added[0].id as string;
    await live.send(
      {
        method: 'get',
        template: '/v1/review-queue/{id}/items',
        ...ofQueue,
        query: { status: 'pending' },
      },
      200,
    );
    const ofItem = { params: { id: ids.queue, item_id: ids.item } };
    const claim = { method: 'post', template: '/v1/review-queue/{id}/claim', ...ofQueue } as const;
    await live.send(claim, 200);
    await live.send(
      { method: 'post', template: '/v1/review-queue/{id}/item/{item_id}/release', ...ofItem },
      200,
    );
    await live.send(
      {
        method: 'post',
        template: '/v1/review-queue/{id}/item/{item_id}/reviews',
        ...ofItem,
        body: { evaluations: [{ evaluation_label_id: ids.label, value: 3 }], comment: 'fine' },
      },
      201,
    );
    await live.send(claim, 204);
    for (const template of ['/v1/review-queue/{id}/progress', '/v1/review-queue/{id}/agreement'])
      await live.send({ method: 'get', template, ...ofQueue }, 200);
  });

  it('a GET of one resource answers 304 exactly where it documents 304', async () => {
    const gets = [...live.succeeded.values()].filter((c) => c.method === 'get');
    let notModified = 0;
    for (const call of gets) {
      const fresh = await live.send(call);
      const etag = fresh.headers.etag as string | undefined;
      const documents304 = '304' in live.doc.paths[call.template].get.responses;
      if (!etag) {
        expect([call.template, documents304]).toEqual([call.template, false]);
        continue;
      }
      const again = await live.send({
        ...call,
        headers: { ...call.headers, 'If-None-Match': etag },
      });
      expect([call.template, again.status]).toEqual([call.template, 304]);
      notModified++;
    }
    expect(notModified).toBeGreaterThanOrEqual(4);
  });

  it('representative refusals: 400, 403, 409, 412, 422', async () => {
    await live.send({ method: 'post', template: '/v1/runs', body: { colour: 'red' } }, 400);
    const evaluator = bearer(token({ evaluator: randomUUID() }));
    await live.send({ method: 'post', template: '/v1/runs', headers: evaluator, body: {} }, 403);
    await live.send({ method: 'post', template: '/v1/runs', body: { id: ids.run } }, 409);
    await live.send(
      {
        method: 'post',
        template: '/v1/evaluation-labels',
        body: { name: 'helpfulness', value_type: 'binary' },
      },
      409,
    );
    await live.send(
      {
        method: 'patch',
        template: '/v1/run/{id}',
        params: { id: ids.run },
        headers: { 'If-Match': '"stale"' },
        body: { name: 'm' },
      },
      412,
    );
    await live.send(
      {
        method: 'post',
        template: '/v1/run/{id}/evaluations',
        params: { id: ids.run },
        body: { evaluation_label_id: ids.label, value: 7 },
      },
      422,
    );
    const key = { 'Idempotency-Key': randomUUID() };
    await live.send({ method: 'post', template: '/v1/runs', headers: key, body: {} }, 201);
    await live.send(
      { method: 'post', template: '/v1/runs', headers: key, body: { name: 'x' } },
      422,
    );
  });

  it('deletes', async () => {
    await live.send(
      {
        method: 'delete',
        template: '/v1/run/{run_id}/evaluation/{evaluation_id}',
        params: { run_id: ids.run, evaluation_id: ids.evaluation },
      },
      204,
    );
    for (const [template, id] of [
      ['/v1/review-queue/{id}', ids.queue],
      ['/v1/evaluator/{id}', ids.evaluator],
      ['/v1/webhook/{id}', ids.webhook],
      ['/v1/evaluation-label/{id}', ids.unused],
      ['/v1/run/{id}', ids.run],
    ]) {
      await live.send({ method: 'delete', template, params: { id } }, 204);
    }
  });

  // Each operation again, as it succeeded, changed so that it must fail.
  it('every operation answers 401 without a token (the health probes need none)', async () => {
    for (const call of live.succeeded.values()) {
      const expected = call.template.startsWith('/v1/') ? 401 : 200;
      await live.send({ ...call, headers: { ...call.headers, Authorization: '' } }, expected);
    }
  });

  it('every operation answers 415 to a body that is not JSON', async () => {
    for (const call of live.succeeded.values()) {
      await live.send({ ...call, raw: { type: 'text/plain', text: 'hello' } }, 415);
    }
  });

  it('every operation that reads a body answers 413 to one over BODY_LIMIT', async () => {
    const big = { name: 'x'.repeat(BODY_LIMIT) };
    for (const call of live.succeeded.values()) {
      if (call.method !== 'get') await live.send({ ...call, body: big }, 413);
    }
  });

  it('every operation with ids in its path answers 400 to one that is not a UUID, 404 to an unknown one', async () => {
    for (const call of live.succeeded.values()) {
      if (!hasIds(call.template)) continue;
      const names = Object.keys(call.params ?? {});
      const unknown = Object.fromEntries(names.map((n) => [n, randomUUID()]));
      await live.send({ ...call, params: { ...unknown, [names[0]]: 'not-a-uuid' } }, 400);
      await live.send({ ...call, params: unknown }, 404);
    }
  });

  it('every operation of the document was driven, and every success it documents was seen', () => {
    const missing: string[] = [];
    for (const op of operationsOf(live.doc)) {
      const [method, template] = op.split(' ');
      const responses = live.doc.paths[template][method.toLowerCase()].responses as Json;
      const seen = live.seen.get(op);
      if (!seen) {
        missing.push(`${op}: never driven`);
        continue;
      }
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) >= 400) continue;
        const types = Object.keys((response as Json).content ?? { '': {} });
        for (const type of types) {
          const answer = `${status} ${type}`.trim();
          if (!seen.has(answer)) missing.push(`${op}: never answered ${answer}`);
        }
      }
    }
    expect(missing).toEqual([]);
    const statuses = new Set(
      [...live.seen.values()].flatMap((s) => [...s].map((a) => a.split(' ')[0])),
    );
    for (const status of ['400', '401', '403', '404', '409', '412', '413', '415', '422'])
      expect([status, statuses.has(status)]).toEqual([status, true]);
  });
});

describe.each(DATABASES)('every /v1 operation documents its 429 ($name)', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db, { RATE_LIMIT: '1', RATE_LIMIT_WINDOW: '3600' });
  });
  afterAll(() => t.close());

  it('answers 429 once the account has spent its limit', async () => {
    const live = await LiveDocument.of(t);
    await live.send({ method: 'get', template: '/v1/runs' }, 200);
    for (const op of operationsOf(live.doc)) {
      const [method, template] = op.split(' ');
      const params = Object.fromEntries(
        [...template.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name, randomUUID()]),
      );
      const expected = template.startsWith('/v1/') ? 429 : 200;
      await live.send({ method: method.toLowerCase() as Method, template, params }, expected);
    }
  });
});
