import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { WriteScope } from '../src/writes/write-scope.js';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { expectClose } from './support/close-to.js';
import { createEvaluator, createLabel, createRun, type Created } from './support/factories.js';
import { rowCounts } from './support/row-counts.js';
import { until } from './support/until.js';

interface Reference {
  paper: Record<string, number>;
  queue: Record<
    string,
    { metric: string; values: (number | null)[][]; alpha: number; items: number; reviews: number }
  >;
}
const REFERENCE = JSON.parse(
  readFileSync(new URL('./fixtures/krippendorff/reference.json', import.meta.url), 'utf8'),
) as Reference;

const as = (sub: string, account = 'acme') => bearer(token({ account, sub }));

describe.each(DATABASES)('review queues on $name', (db) => {
  let t: TestApp;
  let labels: Record<'binary' | 'categorical' | 'ordinal' | 'continuous', Created>;
  const categories = ['a', 'b', 'c', 'd', 'e'];

  beforeAll(async () => {
    t = await startApp(db);
    labels = {
      binary: await createLabel(t.http, { value_type: 'binary' }),
      categorical: await createLabel(t.http, { value_type: 'categorical', categories }),
      ordinal: await createLabel(t.http, { value_type: 'ordinal', categories }),
      continuous: await createLabel(t.http, {
        value_type: 'continuous',
        min_value: 0,
        max_value: 10,
      }),
    };
  });
  afterAll(() => t.close());

  const newQueue = async (body: Record<string, unknown> = {}, auth = bearer()) => {
    const res = await t.http
      .post('/v1/review-queues')
      .set(auth)
      .send({ name: `queue-${randomUUID()}`, label_ids: [labels.binary.id], ...body });
    if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Created & { reviews_per_item: number };
  };
  const addItems = async (queueId: string, items: object[], auth = bearer()) =>
    t.http.post(`/v1/review-queue/${queueId}/items`).set(auth).send({ items });
  const queueWithRuns = async (runs: number, body: Record<string, unknown> = {}) => {
    const queue = await newQueue(body);
    const created: Created[] = [];
    for (let i = 0; i < runs; i++) created.push(await createRun(t.http));
    const res = await addItems(
      queue.id,
      created.map((r) => ({ run_id: r.id })),
    );
    expect(res.status).toBe(201);
    return { queue, runs: created, items: res.body.added as Created[] };
  };
  const claim = (queueId: string, auth = bearer()) =>
    t.http.post(`/v1/review-queue/${queueId}/claim`).set(auth);
  const review = (queueId: string, itemId: string, body: object, auth = bearer()) =>
    t.http.post(`/v1/review-queue/${queueId}/item/${itemId}/reviews`).set(auth).send(body);
  const binaryReview = (value = 1) => ({
    evaluations: [{ evaluation_label_id: labels.binary.id, value }],
  });

  describe('queues', () => {
    it('creates a queue with its defaults, and reads, lists and updates it', async () => {
      const res = await t.http
        .post('/v1/review-queues')
        .set(bearer())
        .send({
          name: 'week 49',
          description: 'support answers',
          instructions: 'read it all',
          label_ids: [labels.binary.id, labels.ordinal.id],
        });
      expect(res.status).toBe(201);
      expect(res.headers.etag).toBeDefined();
      expect(res.body).toEqual({
        id: expect.any(String),
        account_id: 'acme',
        name: 'week 49',
        description: 'support answers',
        instructions: 'read it all',
        label_ids: [labels.binary.id, labels.ordinal.id],
        reviews_per_item: 1,
        reservation_seconds: 900,
        archived_at: null,
        created_by: 'alice',
        created_at: expect.any(String),
        updated_at: null,
      });
      const got = await t.http.get(`/v1/review-queue/${res.body.id}`).set(bearer());
      expect(got.body).toEqual(res.body);
      const patched = await t.http
        .patch(`/v1/review-queue/${res.body.id}`)
        .set(bearer())
        .set('If-Match', got.headers.etag)
        .send({ name: 'week 50', reservation_seconds: 60, reviews_per_item: 3, description: null });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        name: 'week 50',
        reservation_seconds: 60,
        reviews_per_item: 3,
        description: null,
        instructions: 'read it all',
      });
      const stale = await t.http
        .patch(`/v1/review-queue/${res.body.id}`)
        .set(bearer())
        .set('If-Match', got.headers.etag)
        .send({ name: 'x' });
      expect(stale.status).toBe(412);
      // Another account sees nothing.
      const other = await t.http.get(`/v1/review-queue/${res.body.id}`).set(as('eve', 'globex'));
      expect(other.status).toBe(404);
    });

    it('lists queues oldest first with keyset paging, archived ones on request', async () => {
      const auth = as('lister', 'listing');
      const label = await createLabel(t.http, { value_type: 'binary' }, auth);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await newQueue({ label_ids: [label.id] }, auth)).id);
      const first = await t.http.get('/v1/review-queues?limit=2').set(auth);
      expect(first.body.map((q: Created) => q.id)).toEqual(ids.slice(0, 2));
      const next = /<([^>]+)>; rel="next"/.exec(first.headers.link)![1];
      const second = await t.http.get(next).set(auth);
      expect(second.body.map((q: Created) => q.id)).toEqual([ids[2]]);
      expect(second.headers.link).toBeUndefined();
      // One with a review is archived by DELETE, and listed only on request.
      const run = await createRun(t.http, {}, auth);
      const added = await addItems(ids[0], [{ run_id: run.id }], auth);
      const reviewed = await review(
        ids[0],
        added.body.added[0].id,
        { evaluations: [{ evaluation_label_id: label.id, value: 0 }] },
        auth,
      );
      expect(reviewed.status).toBe(201);
      expect((await t.http.delete(`/v1/review-queue/${ids[0]}`).set(auth)).status).toBe(204);
      const live = await t.http.get('/v1/review-queues').set(auth);
      expect(live.body.map((q: Created) => q.id)).toEqual(ids.slice(1));
      const all = await t.http.get('/v1/review-queues?include_archived=true').set(auth);
      expect(all.body.map((q: Created) => q.id)).toEqual(ids);
      expect(all.body[0].archived_at).not.toBeNull();
      // One without reviews is removed.
      expect((await t.http.delete(`/v1/review-queue/${ids[1]}`).set(auth)).status).toBe(204);
      expect((await t.http.get(`/v1/review-queue/${ids[1]}`).set(auth)).status).toBe(404);
      expect((await t.http.delete(`/v1/review-queue/${ids[1]}`).set(auth)).status).toBe(404);
    });

    it('refuses bad queues, writing nothing', async () => {
      const before = await rowCounts(t.dataSource);
      const foreign = await createLabel(t.http, { value_type: 'binary' }, as('eve', 'globex'));
      const afterForeign = await rowCounts(t.dataSource);
      const twentyOne = await Promise.all(
        Array.from({ length: 21 }, () => createLabel(t.http, { value_type: 'binary' })),
      );
      const counted = await rowCounts(t.dataSource);
      const archived = await createLabel(t.http, { value_type: 'binary' });
      const run = await createRun(t.http);
      await t.http
        .post(`/v1/run/${run.id}/evaluations`)
        .set(bearer())
        .send({ evaluation_label_id: archived.id, value: 1 });
      await t.http.delete(`/v1/evaluation-label/${archived.id}`).set(bearer());
      const base = await rowCounts(t.dataSource);
      const cases: [object, number, string][] = [
        [{ label_ids: [foreign.id] }, 404, 'not_found'],
        [{ label_ids: [randomUUID()] }, 404, 'not_found'],
        [{ label_ids: twentyOne.map((l) => l.id) }, 400, 'validation_failed'],
        [{ label_ids: [] }, 400, 'validation_failed'],
        [{ label_ids: ['nope'] }, 400, 'validation_failed'],
        [{ label_ids: [labels.binary.id, labels.binary.id] }, 400, 'validation_failed'],
        [{ label_ids: [archived.id] }, 422, 'label_archived'],
        [{ label_ids: [labels.binary.id], reviews_per_item: 11 }, 400, 'validation_failed'],
        [{ label_ids: [labels.binary.id], reviews_per_item: 0 }, 400, 'validation_failed'],
        [{ label_ids: [labels.binary.id], reviews_per_item: 1.5 }, 400, 'validation_failed'],
        [{ label_ids: [labels.binary.id], reservation_seconds: 59 }, 400, 'validation_failed'],
        [{ label_ids: [labels.binary.id], reservation_seconds: 86401 }, 400, 'validation_failed'],
        [{ label_ids: [labels.binary.id], name: '' }, 400, 'validation_failed'],
        [{ label_ids: [labels.binary.id], extra: 1 }, 400, 'validation_failed'],
      ];
      for (const [body, status, code] of cases) {
        const res = await t.http
          .post('/v1/review-queues')
          .set(bearer())
          .send({ name: 'q', ...body });
        expect([JSON.stringify(body), res.status, res.body.code]).toEqual([
          JSON.stringify(body),
          status,
          code,
        ]);
      }
      const res = await t.http
        .post('/v1/review-queues')
        .set(bearer())
        .send({ name: 'q', label_ids: [labels.binary.id, foreign.id] });
      expect(res.body.details).toEqual([
        { field: 'label_ids[1]', message: 'no evaluation label with this id in your account' },
      ]);
      expect(await rowCounts(t.dataSource)).toEqual(base);
      expect(before).not.toEqual(afterForeign);
      expect(counted).not.toEqual(afterForeign);
      // Twenty is the most.
      await newQueue({ label_ids: twentyOne.slice(1).map((l) => l.id) });
    });

    it('keeps label_ids and reviews_per_item once the queue has reviews', async () => {
      const { queue, items } = await queueWithRuns(1);
      expect((await review(queue.id, items[0].id, binaryReview())).status).toBe(201);
      for (const body of [{ label_ids: [labels.ordinal.id] }, { reviews_per_item: 2 }]) {
        const res = await t.http.patch(`/v1/review-queue/${queue.id}`).set(bearer()).send(body);
        expect([res.status, res.body.code]).toEqual([409, 'queue_has_reviews']);
      }
      const same = await t.http
        .patch(`/v1/review-queue/${queue.id}`)
        .set(bearer())
        .send({ label_ids: [labels.binary.id], reviews_per_item: 1, instructions: 'new' });
      expect([same.status, same.body.instructions]).toEqual([200, 'new']);
      const nulled = await t.http
        .patch(`/v1/review-queue/${queue.id}`)
        .set(bearer())
        .send({ name: null });
      expect(nulled.status).toBe(400);
    });
  });

  describe('items', () => {
    it('queues each target once, and says which were already there', async () => {
      const queue = await newQueue();
      const run = await createRun(t.http, { outputs: { answer: { score: 1 } } });
      const other = await createRun(t.http);
      const first = await addItems(queue.id, [
        { run_id: run.id },
        { run_id: run.id, output_name: 'answer' },
        { run_id: run.id, output_name: 'answer', field_path: '$.score' },
        { run_id: run.id.toUpperCase() },
      ]);
      expect(first.status).toBe(201);
      expect(first.body.added).toHaveLength(3);
      expect(first.body.added[2]).toEqual({
        id: expect.any(String),
        queue_id: queue.id,
        run_id: run.id,
        output_name: 'answer',
        field_path: '$.score',
        status: 'pending',
        reviews: 0,
        reserved: 0,
        run_deleted: false,
        completed_at: null,
        created_at: expect.any(String),
      });
      expect(first.body.already_queued.map((i: Created) => i.id)).toEqual([first.body.added[0].id]);
      const second = await addItems(queue.id, [
        { run_id: other.id },
        { run_id: run.id, output_name: 'answer', field_path: '$.score' },
      ]);
      expect(second.body.added.map((i: Created) => i.run_id)).toEqual([other.id]);
      expect(second.body.already_queued.map((i: Created) => i.id)).toEqual([
        first.body.added[2].id,
      ]);
      const list = await t.http.get(`/v1/review-queue/${queue.id}/items?limit=3`).set(bearer());
      expect(list.body.map((i: Created) => i.id)).toEqual(
        first.body.added.map((i: Created) => i.id),
      );
      const rest = await t.http
        .get(/<([^>]+)>; rel="next"/.exec(list.headers.link)![1])
        .set(bearer());
      expect(rest.body.map((i: Created) => i.id)).toEqual([second.body.added[0].id]);
    });

    it('refuses bad items, writing nothing', async () => {
      const queue = await newQueue();
      const run = await createRun(t.http);
      const foreign = await createRun(t.http, {}, as('eve', 'globex'));
      const base = await rowCounts(t.dataSource);
      const missing = await addItems(queue.id, [{ run_id: run.id }, { run_id: foreign.id }]);
      expect([missing.status, missing.body.code, missing.body.details]).toEqual([
        404,
        'not_found',
        [{ field: 'items[1].run_id', message: 'no run with this id in your account' }],
      ]);
      const badPath = await addItems(queue.id, [{ run_id: run.id, field_path: '$[' }]);
      expect([badPath.status, badPath.body.details[0].field]).toEqual([400, 'items[0].field_path']);
      const tooMany = await addItems(
        queue.id,
        Array.from({ length: 1001 }, () => ({ run_id: run.id })),
      );
      expect(tooMany.status).toBe(400);
      for (const items of [[], [{}], [{ run_id: 'x' }], [{ run_id: run.id, extra: 1 }], 'x']) {
        expect((await addItems(queue.id, items as object[])).status).toBe(400);
      }
      expect((await addItems(randomUUID(), [{ run_id: run.id }])).status).toBe(404);
      expect((await addItems(queue.id, [{ run_id: run.id }], as('eve', 'globex'))).status).toBe(
        404,
      );
      expect(await rowCounts(t.dataSource)).toEqual(base);
      // A thousand is the most.
      const runs = await Promise.all(Array.from({ length: 4 }, () => createRun(t.http)));
      const thousand = await addItems(
        queue.id,
        Array.from({ length: 1000 }, (_, i) => ({
          run_id: runs[i % 4].id,
          output_name: `o${Math.floor(i / 4)}`,
        })),
      );
      expect([thousand.status, thousand.body.added.length]).toEqual([201, 1000]);
    });

    it('filters items by status, and counts progress by status and reviewer', async () => {
      const { queue, items } = await queueWithRuns(4, { reviews_per_item: 2 });
      expect((await review(queue.id, items[0].id, binaryReview(), as('ann'))).status).toBe(201);
      expect((await review(queue.id, items[0].id, binaryReview(), as('bob'))).status).toBe(201);
      expect((await review(queue.id, items[1].id, binaryReview(), as('ann'))).status).toBe(201);
      const claimed = await claim(queue.id, as('cid'));
      expect(claimed.body.item.id).toBe(items[1].id);
      const byStatus = async (status: string) =>
        (
          await t.http.get(`/v1/review-queue/${queue.id}/items?status=${status}`).set(bearer())
        ).body.map((i: Created) => i.id);
      expect(await byStatus('completed')).toEqual([items[0].id]);
      expect(await byStatus('in_review')).toEqual([items[1].id]);
      expect(await byStatus('pending')).toEqual([items[2].id, items[3].id]);
      expect(
        (await t.http.get(`/v1/review-queue/${queue.id}/items?status=done`).set(bearer())).status,
      ).toBe(400);
      const progress = await t.http.get(`/v1/review-queue/${queue.id}/progress`).set(bearer());
      expect(progress.body).toEqual({
        items: { pending: 2, in_review: 1, completed: 1, run_deleted: 0, total: 4 },
        reviews: 3,
        reviewers: [
          { reviewer: 'ann', reviews: 2, reserved: 0 },
          { reviewer: 'bob', reviews: 1, reserved: 0 },
          { reviewer: 'cid', reviews: 0, reserved: 1 },
        ],
      });
    });
  });

  describe('claims and reviews', () => {
    it('claims the oldest item with a place, as many times as it wants reviews', async () => {
      const { queue, items } = await queueWithRuns(2, { reviews_per_item: 2 });
      const a = await claim(queue.id, as('ann'));
      expect(a.status).toBe(200);
      expect(a.body).toEqual({
        item: expect.objectContaining({ id: items[0].id, status: 'in_review', reserved: 1 }),
        expires_at: expect.any(String),
      });
      const seconds = (Date.parse(a.body.expires_at) - Date.now()) / 1000;
      expect(seconds).toBeGreaterThan(850);
      expect(seconds).toBeLessThanOrEqual(900);
      // Claiming again gives the same item back.
      expect((await claim(queue.id, as('ann'))).body.item.id).toBe(items[0].id);
      // A second reviewer takes the item's second place, a third the next item.
      expect((await claim(queue.id, as('bob'))).body.item.id).toBe(items[0].id);
      expect((await claim(queue.id, as('cid'))).body.item.id).toBe(items[1].id);
      expect((await claim(queue.id, as('dan'))).body.item.id).toBe(items[1].id);
      const none = await claim(queue.id, as('eli'));
      expect([none.status, none.text]).toEqual([204, '']);
      // Released, its place is free again.
      const released = await t.http
        .post(`/v1/review-queue/${queue.id}/item/${items[0].id}/release`)
        .set(as('bob'));
      expect([released.status, released.body.reserved]).toEqual([200, 1]);
      expect((await claim(queue.id, as('eli'))).body.item.id).toBe(items[0].id);
      // A review frees the reservation it used; the reviewer is not offered the item again.
      const done = await review(queue.id, items[0].id, binaryReview(0), as('ann'));
      expect(done.status).toBe(201);
      expect((await claim(queue.id, as('ann'))).status).toBe(204);
      // Wrong ids.
      expect((await claim(randomUUID(), as('ann'))).status).toBe(404);
      expect((await claim('nope', as('ann'))).status).toBe(400);
      expect(
        (
          await t.http
            .post(`/v1/review-queue/${queue.id}/item/${randomUUID()}/release`)
            .set(bearer())
        ).status,
      ).toBe(404);
    });

    it('answers a claim again from its Idempotency-Key, claiming nothing more', async () => {
      const { queue, items } = await queueWithRuns(2);
      const key = randomUUID();
      const first = await claim(queue.id, as('ann')).set('Idempotency-Key', key);
      expect([first.status, first.body.item.id]).toEqual([200, items[0].id]);
      const again = await claim(queue.id, as('ann')).set('Idempotency-Key', key);
      expect([again.status, again.headers['idempotent-replayed'], again.body]).toEqual([
        200,
        'true',
        first.body,
      ]);
      const [held] = await t.dataSource.query<{ expires_at: Date }[]>(
        'SELECT expires_at FROM review_reservations WHERE item_id = $1',
        [items[0].id],
      );
      expect(held.expires_at.toISOString()).toBe(first.body.expires_at);
    });

    it('records a review with its evaluations on the item’s target, in one write', async () => {
      const run = await createRun(t.http, { outputs: { answer: { score: 3 } } });
      const queue = await newQueue({
        label_ids: [labels.ordinal.id, labels.continuous.id],
        reviews_per_item: 2,
      });
      const added = await addItems(queue.id, [
        { run_id: run.id, output_name: 'answer', field_path: 'score' },
      ]);
      const item = added.body.added[0] as Created;
      const body = {
        // In any order: the answer follows the queue's labels.
        evaluations: [
          { evaluation_label_id: labels.continuous.id, value: 7.5 },
          { evaluation_label_id: labels.ordinal.id, value: 2 },
        ],
        comment: 'fine',
      };
      const res = await review(queue.id, item.id, body, as('ann')).set('Idempotency-Key', 'r-1');
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        queue_id: queue.id,
        item_id: item.id,
        reviewer: 'ann',
        comment: 'fine',
        item_completed: false,
        created_at: expect.any(String),
        evaluations: [
          expect.objectContaining({
            run_id: run.id,
            evaluation_label_id: labels.ordinal.id,
            value: 2,
            output_name: 'answer',
            field_path: 'score',
            created_by: 'ann',
            created_by_evaluator_id: null,
          }),
          expect.objectContaining({ evaluation_label_id: labels.continuous.id, value: 7.5 }),
        ],
      });
      // The evaluations are the run's, with their history.
      const stored = await t.http.get(`/v1/run/${run.id}/evaluations`).set(bearer());
      expect(stored.body.map((e: Created) => e.id)).toEqual(
        res.body.evaluations.map((e: Created) => e.id),
      );
      // A retry with the key replays the answer and writes nothing.
      const before = await rowCounts(t.dataSource);
      const again = await review(queue.id, item.id, body, as('ann')).set('Idempotency-Key', 'r-1');
      expect([again.status, again.headers['idempotent-replayed'], again.body]).toEqual([
        201,
        'true',
        res.body,
      ]);
      expect(await rowCounts(t.dataSource)).toEqual(before);
      // Without the key, it is the same person reviewing twice.
      const twice = await review(queue.id, item.id, body, as('ann'));
      expect([twice.status, twice.body.code]).toEqual([409, 'already_reviewed']);
      // The second review completes the item, with its event.
      const second = await review(queue.id, item.id, body, as('bob'));
      expect([second.status, second.body.item_completed]).toEqual([201, true]);
      const third = await review(queue.id, item.id, body, as('cid'));
      expect([third.status, third.body.code]).toEqual([409, 'item_full']);
      // Events are listed once the outbox has ordered them.
      const eventsOf = async () => {
        const all: { type: string; data: { id: string } }[] = [];
        for (let url: string | undefined = '/v1/events?limit=1000'; url;) {
          const page: { body: never[]; headers: Record<string, string> } = await t.http
            .get(url)
            .set(bearer())
            .set('Accept', 'application/json');
          all.push(...page.body);
          url = /<([^>]+)>; rel="next"/.exec(page.headers.link ?? '')?.[1];
        }
        return all;
      };
      let events: { type: string; data: { id: string } }[] = [];
      const isCompletion = (e: { type: string; data: { id: string } }) =>
        e.type === 'review_queue.item_completed' && e.data.id === item.id;
      await until(async () => (events = await eventsOf()).some(isCompletion));
      const completed = events.filter(isCompletion);
      expect(completed).toHaveLength(1);
      expect(completed[0].data).toMatchObject({
        id: item.id,
        queue_id: queue.id,
        status: 'completed',
        reviews: 2,
        review_ids: [res.body.id, second.body.id],
      });
      const types = events.map((e: { type: string }) => e.type);
      expect(types).toEqual(expect.arrayContaining(['review_queue.created', 'evaluation.created']));
    });

    it('refuses a review that does not give one fitting value per label, writing nothing', async () => {
      const { queue, items } = await queueWithRuns(1, {
        label_ids: [labels.binary.id, labels.categorical.id],
      });
      const base = await rowCounts(t.dataSource);
      const send = (evaluations: object[]) =>
        review(queue.id, items[0].id, { evaluations }, as('ann'));
      const missing = await send([{ evaluation_label_id: labels.binary.id, value: 1 }]);
      expect([missing.status, missing.body.code]).toEqual([422, 'review_labels_mismatch']);
      expect(missing.body.error).toContain(labels.categorical.id);
      const extra = await send([
        { evaluation_label_id: labels.binary.id, value: 1 },
        { evaluation_label_id: labels.categorical.id, value: 1 },
        { evaluation_label_id: labels.ordinal.id, value: 1 },
      ]);
      expect([extra.status, extra.body.details]).toEqual([
        422,
        [
          {
            field: 'evaluations[2].evaluation_label_id',
            message: `label ${labels.ordinal.id} is not one of the queue's labels`,
          },
        ],
      ]);
      const twice = await send([
        { evaluation_label_id: labels.binary.id, value: 1 },
        { evaluation_label_id: labels.binary.id, value: 0 },
      ]);
      expect(twice.status).toBe(422);
      const refused = await send([
        { evaluation_label_id: labels.binary.id, value: 1 },
        { evaluation_label_id: labels.categorical.id, value: 7 },
      ]);
      expect([refused.status, refused.body.code, refused.body.details[0].field]).toEqual([
        422,
        'value_out_of_range',
        'evaluations[1].value',
      ]);
      expect(refused.body.error).toContain(String(labels.categorical.name));
      for (const body of [
        {},
        { evaluations: [] },
        { evaluations: [{ evaluation_label_id: labels.binary.id, value: 'x' }] },
        { evaluations: [{ evaluation_label_id: labels.binary.id, value: 1 }], extra: 1 },
      ]) {
        expect((await review(queue.id, items[0].id, body, as('ann'))).status).toBe(400);
      }
      expect(await rowCounts(t.dataSource)).toEqual(base);
    });

    it('keeps claims and reviews to people', async () => {
      const { queue, items } = await queueWithRuns(1);
      const evaluator = await createEvaluator(t.http);
      const judge = bearer(token({ sub: 'svc', evaluator: evaluator.id }));
      for (const res of [
        await claim(queue.id, judge),
        await review(queue.id, items[0].id, binaryReview(), judge),
      ]) {
        expect([res.status, res.body.code]).toEqual([403, 'reviews_are_by_people']);
      }
    });

    it('accepts a late review while a place is free, and refuses it once the item is full', async () => {
      const { queue, items } = await queueWithRuns(1, { reservation_seconds: 60 });
      const expire = (reviewer: string) =>
        t.dataSource.query(
          `UPDATE review_reservations SET expires_at = now() - interval '1 second'
            WHERE item_id = $1 AND reviewer = $2`,
          [items[0].id, reviewer],
        );
      // ann claims; bob, holding nothing, finds no place.
      expect((await claim(queue.id, as('ann'))).body.item.id).toBe(items[0].id);
      expect((await claim(queue.id, as('bob'))).status).toBe(204);
      const early = await review(queue.id, items[0].id, binaryReview(), as('bob'));
      expect([early.status, early.body.code]).toEqual([409, 'item_full']);
      // ann's reservation runs out: bob claims the item and reviews it.
      await expire('ann');
      expect((await claim(queue.id, as('bob'))).body.item.id).toBe(items[0].id);
      expect((await review(queue.id, items[0].id, binaryReview(), as('bob'))).status).toBe(201);
      // ann's late review finds the item full.
      const late = await review(queue.id, items[0].id, binaryReview(), as('ann'));
      expect([late.status, late.body.code]).toEqual([409, 'item_full']);

      // A late review while the place is still free is accepted.
      const second = await queueWithRuns(1, { reservation_seconds: 60 });
      expect((await claim(second.queue.id, as('ann'))).body.item.id).toBe(second.items[0].id);
      await t.dataSource.query(
        `UPDATE review_reservations SET expires_at = now() - interval '1 second' WHERE item_id = $1`,
        [second.items[0].id],
      );
      const item = await t.http.get(`/v1/review-queue/${second.queue.id}/items`).set(bearer());
      expect(item.body[0]).toMatchObject({ status: 'pending', reserved: 0 });
      const accepted = await review(second.queue.id, second.items[0].id, binaryReview(), as('ann'));
      expect([accepted.status, accepted.body.item_completed]).toEqual([201, true]);
    });

    it('marks items whose run was deleted, and skips them', async () => {
      const { queue, runs, items } = await queueWithRuns(2);
      expect((await t.http.delete(`/v1/run/${runs[0].id}`).set(bearer())).status).toBe(204);
      const list = await t.http.get(`/v1/review-queue/${queue.id}/items`).set(bearer());
      expect(list.body.map((i: { run_deleted: boolean }) => i.run_deleted)).toEqual([true, false]);
      expect((await claim(queue.id, as('ann'))).body.item.id).toBe(items[1].id);
      const res = await review(queue.id, items[0].id, binaryReview(), as('bob'));
      expect([res.status, res.body.code]).toEqual([409, 'run_deleted']);
      const progress = await t.http.get(`/v1/review-queue/${queue.id}/progress`).set(bearer());
      expect(progress.body.items).toMatchObject({ run_deleted: 1, total: 2 });
    });

    it('archives a queue with reviews: no more items, claims or reviews', async () => {
      const { queue, runs, items } = await queueWithRuns(2);
      expect((await review(queue.id, items[0].id, binaryReview(), as('ann'))).status).toBe(201);
      expect((await t.http.delete(`/v1/review-queue/${queue.id}`).set(bearer())).status).toBe(204);
      const got = await t.http.get(`/v1/review-queue/${queue.id}`).set(bearer());
      expect(got.body.archived_at).not.toBeNull();
      for (const res of [
        await claim(queue.id, as('bob')),
        await review(queue.id, items[1].id, binaryReview(), as('bob')),
        await addItems(queue.id, [{ run_id: runs[0].id, output_name: 'x' }]),
      ]) {
        expect([res.status, res.body.code]).toEqual([409, 'queue_archived']);
      }
      // Its reviews stay readable.
      const progress = await t.http.get(`/v1/review-queue/${queue.id}/progress`).set(bearer());
      expect(progress.body.reviews).toBe(1);
    });
  });

  describe('a review of an item claimed on the same instance', () => {
    afterEach(() => {
      jest.restoreAllMocks();
    });
    /** How many reads the writes from now on make first. */
    const watchReads = () => {
      const reads = jest.spyOn(WriteScope.prototype, 'readShared');
      return () => reads.mock.calls.length;
    };
    /** A queue of one review per item, reviewed here once: the next review finds it kept. */
    const reviewedOnce = async (runs = 2) => {
      const made = await queueWithRuns(runs);
      const first = await claim(made.queue.id, as('ann'));
      expect(
        (await review(made.queue.id, first.body.item.id, binaryReview(), as('ann'))).status,
      ).toBe(201);
      return made;
    };

    it('is one statement, reading nothing first, with the answer and the event a read gives', async () => {
      const { queue, runs, items } = await reviewedOnce();
      const claimed = await claim(queue.id, as('bob'));
      expect(claimed.body.item.id).toBe(items[1].id);
      const reads = watchReads();
      const res = await review(queue.id, items[1].id, binaryReview(0), as('bob'));
      expect(reads()).toBe(0);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        item_id: items[1].id,
        reviewer: 'bob',
        item_completed: true,
        evaluations: [{ run_id: runs[1].id, value: 0, created_by: 'bob' }],
      });
      const listed = await t.http.get(`/v1/review-queue/${queue.id}/items`).set(bearer());
      expect(listed.body[1]).toMatchObject({ status: 'completed', reviews: 1, reserved: 0 });
      const [{ events }] = await t.dataSource.query<{ events: { type: string; data: object }[] }[]>(
        `SELECT events FROM outbox_writes WHERE events::text LIKE '%item_completed%'
            AND events::text LIKE $1`,
        [`%${items[1].id}%`],
      );
      const completion = events.find((e) => e.type === 'review_queue.item_completed');
      expect(completion?.data).toEqual({
        ...listed.body[1],
        review_ids: [res.body.id],
      });
      // The person cannot review it twice: refused on a fresh read.
      const twice = await review(queue.id, items[1].id, binaryReview(), as('bob'));
      expect([twice.status, twice.body.code]).toEqual([409, 'already_reviewed']);
    });

    it('refuses on a fresh read what changed elsewhere since, writing nothing', async () => {
      const { queue } = await reviewedOnce(5);
      const cases: [string, (itemId: string) => Promise<unknown>, number, string][] = [
        // As another instance would: the database changes, this instance hears nothing.
        [
          'the item reviewed by another, once this reservation ran out',
          async (itemId) => {
            await t.dataSource.query(
              `UPDATE review_reservations SET expires_at = now() - interval '1 second'
                WHERE item_id = $1`,
              [itemId],
            );
            await t.dataSource.query(
              `UPDATE review_queue_items SET reviews = 1, completed_at = now() WHERE id = $1`,
              [itemId],
            );
          },
          409,
          'item_full',
        ],
        [
          'its run deleted',
          (itemId) =>
            t.dataSource.query(
              'DELETE FROM runs WHERE id = (SELECT run_id FROM review_queue_items WHERE id = $1)',
              [itemId],
            ),
          409,
          'run_deleted',
        ],
        [
          'the label archived',
          () =>
            t.dataSource.query(
              'UPDATE evaluation_labels SET archived_at = now() WHERE id = $1 RETURNING id',
              [labels.binary.id],
            ),
          422,
          'label_archived',
        ],
        [
          'the queue archived',
          () =>
            t.dataSource.query('UPDATE review_queues SET archived_at = now() WHERE id = $1', [
              queue.id,
            ]),
          409,
          'queue_archived',
        ],
      ];
      for (const [what, change, status, code] of cases) {
        const claimed = await claim(queue.id, as('bob'));
        expect([what, claimed.status]).toEqual([what, 200]);
        await change(claimed.body.item.id);
        const before = await rowCounts(t.dataSource);
        const reads = watchReads();
        const res = await review(queue.id, claimed.body.item.id, binaryReview(), as('bob'));
        expect([what, res.status, res.body.code, reads()]).toEqual([what, status, code, 1]);
        expect(await rowCounts(t.dataSource)).toEqual(before);
        jest.restoreAllMocks();
        if (what === 'the label archived') {
          await t.dataSource.query(
            'UPDATE evaluation_labels SET archived_at = NULL WHERE id = $1',
            [labels.binary.id],
          );
        }
      }
    });

    it('reviews on a fresh read what kept rows would have refused', async () => {
      const { queue, items } = await reviewedOnce();
      // The queue's labels changed elsewhere: kept, the review would miss a value.
      await t.dataSource.query(`UPDATE review_queues SET label_ids = $2 WHERE id = $1`, [
        queue.id,
        JSON.stringify([labels.ordinal.id]),
      ]);
      const claimed = await claim(queue.id, as('bob'));
      expect(claimed.body.item.id).toBe(items[1].id);
      const reads = watchReads();
      const res = await review(
        queue.id,
        items[1].id,
        { evaluations: [{ evaluation_label_id: labels.ordinal.id, value: 2 }] },
        as('bob'),
      );
      expect([res.status, reads()]).toEqual([201, 1]);
      expect(res.body.evaluations).toMatchObject([
        { evaluation_label_id: labels.ordinal.id, value: 2 },
      ]);
    });
  });

  describe('agreement', () => {
    it("computes Krippendorff's alpha per label as the reference does", async () => {
      const names = ['binary', 'categorical', 'ordinal', 'continuous'] as const;
      const queue = await newQueue({
        label_ids: names.map((n) => labels[n].id),
        reviews_per_item: 4,
      });
      const empty = await t.http.get(`/v1/review-queue/${queue.id}/agreement`).set(bearer());
      expect(empty.body.labels.map((l: { alpha: null }) => l.alpha)).toEqual([
        null,
        null,
        null,
        null,
      ]);
      const reviewers = ['A', 'B', 'C', 'D'];
      const units = REFERENCE.queue.binary.values[0].length;
      const runs = await Promise.all(Array.from({ length: units }, () => createRun(t.http)));
      const added = await addItems(
        queue.id,
        runs.map((r) => ({ run_id: r.id })),
      );
      const items = added.body.added as Created[];
      for (let coder = 0; coder < reviewers.length; coder++) {
        for (let unit = 0; unit < units; unit++) {
          if (REFERENCE.queue.binary.values[coder][unit] === null) continue;
          const res = await review(
            queue.id,
            items[unit].id,
            {
              evaluations: names.map((n) => ({
                evaluation_label_id: labels[n].id,
                value: REFERENCE.queue[n].values[coder][unit],
              })),
            },
            as(reviewers[coder]),
          );
          expect(res.status).toBe(201);
        }
      }
      const res = await t.http.get(`/v1/review-queue/${queue.id}/agreement`).set(bearer());
      expect(res.status).toBe(200);
      expect(res.body.queue_id).toBe(queue.id);
      expectClose(
        res.body.labels,
        names.map((n) => ({
          evaluation_label_id: labels[n].id,
          metric: REFERENCE.queue[n].metric,
          alpha: REFERENCE.queue[n].alpha,
          items: REFERENCE.queue[n].items,
          reviews: REFERENCE.queue[n].reviews,
          reviewers: 4,
        })),
      );
      // The paper's own figures: its data are the categorical and ordinal labels' values + 1.
      expectClose(res.body.labels[1].alpha, REFERENCE.paper.nominal);
      expectClose(res.body.labels[2].alpha, REFERENCE.paper.ordinal);
    });
  });
});
