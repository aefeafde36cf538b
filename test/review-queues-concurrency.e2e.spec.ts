import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApp } from '../src/app.factory.js';
import {
  bearer,
  DATABASES,
  describeOnServers,
  startApp,
  type TestApp,
  type TestDatabase,
  testSettings,
  token,
} from './support/app.js';
import { createLabel, createRun } from './support/factories.js';

type Http = ReturnType<typeof request>;

const REVIEWERS = 20;
const ITEMS = 50;
const PER_ITEM = 3;

const as = (sub: string) => bearer(token({ sub }));

/** A queue of ITEMS runs wanting `perItem` reviews of one binary label. */
async function queueOfRuns(
  http: Http,
  perItem = PER_ITEM,
): Promise<{ queueId: string; labelId: string }> {
  const label = await createLabel(http, { value_type: 'binary' });
  const queue = await http
    .post('/v1/review-queues')
    .set(bearer())
    .send({ name: 'load', label_ids: [label.id], reviews_per_item: perItem });
  const runs = await Promise.all(Array.from({ length: ITEMS }, () => createRun(http)));
  const added = await http
    .post(`/v1/review-queue/${queue.body.id}/items`)
    .set(bearer())
    .send({ items: runs.map((r) => ({ run_id: r.id })) });
  expect(added.body.added).toHaveLength(ITEMS);
  return { queueId: queue.body.id as string, labelId: label.id };
}

/**
 * One person working through the queue: claim, review, until nothing is left for them. With
 * two instances, claims go to one and reviews to the other.
 */
async function work(
  claimVia: Http,
  reviewVia: Http,
  queueId: string,
  labelId: string,
  sub: string,
): Promise<string[]> {
  const reviewed: string[] = [];
  for (;;) {
    const claimed = await claimVia.post(`/v1/review-queue/${queueId}/claim`).set(as(sub));
    if (claimed.status === 204) return reviewed;
    expect(claimed.status).toBe(200);
    const itemId = claimed.body.item.id as string;
    const res = await reviewVia
      .post(`/v1/review-queue/${queueId}/item/${itemId}/reviews`)
      .set(as(sub))
      .send({ evaluations: [{ evaluation_label_id: labelId, value: reviewed.length % 2 }] });
    expect([res.status, res.body.code]).toEqual([201, undefined]);
    reviewed.push(itemId);
  }
}

/** What the database holds once everybody is done: exactly `perItem` reviews on every item. */
async function expectAllReviewed(
  t: TestApp,
  queueId: string,
  reviewed: string[][],
  perItem = PER_ITEM,
) {
  const all = reviewed.flat();
  expect(all).toHaveLength(ITEMS * perItem);
  for (const own of reviewed) expect(new Set(own).size).toBe(own.length);
  const [row] = await t.dataSource.query<
    { reviews: number; pairs: number; most: number; completed: number; evaluations: number }[]
  >(
    `SELECT (SELECT count(*)::int FROM reviews WHERE queue_id = $1) AS reviews,
            (SELECT count(DISTINCT (item_id, reviewer))::int FROM reviews WHERE queue_id = $1) AS pairs,
            (SELECT max(n)::int FROM (SELECT count(*) AS n FROM reviews WHERE queue_id = $1
                                       GROUP BY item_id) AS c) AS most,
            (SELECT count(*)::int FROM review_queue_items WHERE queue_id = $1
                AND completed_at IS NOT NULL AND reviews = $2) AS completed,
            (SELECT count(*)::int FROM run_evaluations e
               JOIN review_queue_items i ON i.run_id = e.run_id WHERE i.queue_id = $1) AS evaluations`,
    [queueId, perItem],
  );
  expect(row).toEqual({
    reviews: ITEMS * perItem,
    pairs: ITEMS * perItem,
    most: perItem,
    completed: ITEMS,
    evaluations: ITEMS * perItem,
  });
  const progress = await t.http.get(`/v1/review-queue/${queueId}/progress`).set(bearer());
  expect(progress.body.items).toEqual({
    pending: 0,
    in_review: 0,
    completed: ITEMS,
    run_deleted: 0,
    total: ITEMS,
  });
  expect(progress.body.reviewers.map((r: { reserved: number }) => r.reserved)).toEqual(
    Array.from({ length: REVIEWERS }, () => 0),
  );
}

const subs = Array.from({ length: REVIEWERS }, (_, i) => `reviewer-${i}`);

describe.each(DATABASES)('review queues under concurrency on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  // One review per item: each review finds its item and run kept from its claim.
  it.each([PER_ITEM, 1])(
    `${REVIEWERS} people reviewing ${ITEMS} items at once give each exactly %i review(s)`,
    async (perItem) => {
      const { queueId, labelId } = await queueOfRuns(t.http, perItem);
      const reviewed = await Promise.all(
        subs.map((sub) => work(t.http, t.http, queueId, labelId, sub)),
      );
      await expectAllReviewed(t, queueId, reviewed, perItem);
    },
    300_000,
  );

  it('lets exactly reviews_per_item of many simultaneous unreserved reviews in', async () => {
    const label = await createLabel(t.http, { value_type: 'binary' });
    const queue = await t.http
      .post('/v1/review-queues')
      .set(bearer())
      .send({ name: 'race', label_ids: [label.id], reviews_per_item: PER_ITEM });
    const run = await createRun(t.http);
    const added = await t.http
      .post(`/v1/review-queue/${queue.body.id}/items`)
      .set(bearer())
      .send({ items: [{ run_id: run.id }] });
    const itemId = added.body.added[0].id as string;
    const answers = await Promise.all(
      subs.map((sub) =>
        t.http
          .post(`/v1/review-queue/${queue.body.id}/item/${itemId}/reviews`)
          .set(as(sub))
          .send({ evaluations: [{ evaluation_label_id: label.id, value: 1 }] }),
      ),
    );
    const statuses = answers.map((a) => `${a.status} ${a.body.code ?? ''}`.trim()).sort();
    expect(statuses).toEqual([
      ...Array.from({ length: PER_ITEM }, () => '201'),
      ...Array.from({ length: REVIEWERS - PER_ITEM }, () => '409 item_full'),
    ]);
    const evaluations = await t.http.get(`/v1/run/${run.id}/evaluations`).set(bearer());
    expect(evaluations.body).toHaveLength(PER_ITEM);
  }, 120_000);
});

describeOnServers('review queues across two instances on $name', (db: TestDatabase) => {
  let t: TestApp;
  let second: NestFastifyApplication;
  beforeAll(async () => {
    // The first start resets the database and migrates it; the second joins it as it is.
    t = await startApp(db);
    second = await createApp(testSettings(db));
  });
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  it(`${REVIEWERS} people split across two instances still give each item exactly ${PER_ITEM} reviews`, async () => {
    const other = request(second.getHttpServer());
    const { queueId, labelId } = await queueOfRuns(t.http);
    const reviewed = await Promise.all(
      subs.map((sub, i) =>
        i % 2 === 0
          ? work(t.http, other, queueId, labelId, sub)
          : work(other, t.http, queueId, labelId, sub),
      ),
    );
    await expectAllReviewed(t, queueId, reviewed);
  }, 300_000);

  it(`${REVIEWERS} people, each on one of two instances, give each item exactly one review`, async () => {
    // Each instance reviews what it claimed from what it keeps; the other's writes reach it
    // through the database alone.
    const other = request(second.getHttpServer());
    const { queueId, labelId } = await queueOfRuns(t.http, 1);
    const reviewed = await Promise.all(
      subs.map((sub, i) => {
        const via = i % 2 === 0 ? t.http : other;
        return work(via, via, queueId, labelId, sub);
      }),
    );
    await expectAllReviewed(t, queueId, reviewed, 1);
  }, 300_000);
});
