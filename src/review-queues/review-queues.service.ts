import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LRUCache } from 'lru-cache';
import { DataSource, type EntityManager, type QueryFailedError } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ApiError, type ErrorDetail } from '../common/api-error.js';
import { orderedUuids } from '../common/ordered-uuids.js';
import { findPage, type Page } from '../common/paging.js';
import { sqlState, UNIQUE_VIOLATION } from '../common/pg-errors.js';
import { refuseNulls } from '../common/validation.js';
import { selectColumns } from '../database/columns.js';
import type { EvaluationEntity } from '../evaluations/evaluation.entity.js';
import {
  EvaluationsService,
  type KeptRun,
  type Targets,
} from '../evaluations/evaluations.service.js';
import { compileFieldPath } from '../evaluations/field-path.js';
import { WritePipeline } from '../writes/write-pipeline.js';
import type { WriteScope } from '../writes/write-scope.js';
import type {
  AddQueueItemsDto,
  CreateReviewDto,
  CreateReviewQueueDto,
  ItemStatus,
  ListQueueItemsQueryDto,
  ListReviewQueuesQueryDto,
  UpdateReviewQueueDto,
} from './dto/create-review-queue.dto.js';
import { DEFAULT_RESERVATION_SECONDS } from './dto/create-review-queue.dto.js';
import {
  type AgreementDto,
  type AlphaMetric,
  type ProgressDto,
  type ReviewQueueItemDto,
  toReviewQueueDto,
} from './dto/review-queue.dto.js';
import { type Coincidence, krippendorffAlpha } from './krippendorff.js';
import { ReviewQueueEntity } from './review-queue.entity.js';

const queueNotFound = (id: string) => ApiError.notFound('Review queue', id);
const itemNotFound = (id: string) => ApiError.notFound('Review queue item', id);
const alreadyReviewed = (id: string) =>
  new ApiError(
    'already_reviewed',
    `You have already reviewed item ${id}; a person reviews an item once.`,
  );

/** An item as the API shows it, read by ITEM_COLUMNS. */
type ItemRow = ReviewQueueItemDto;

/**
 * The select list of an item as the API shows it, from `review_queue_items i`: its status
 * and live reservations are worked out as it is read, since reservations expire by time.
 */
const ITEM_COLUMNS = `i.id, i.queue_id, i.run_id, i.output_name, i.field_path,
  CASE WHEN i.completed_at IS NOT NULL THEN 'completed'
       WHEN i.reviews > 0 OR EXISTS (SELECT 1 FROM review_reservations v
              WHERE v.account_id = i.account_id AND v.item_id = i.id AND v.expires_at > now())
         THEN 'in_review'
       ELSE 'pending' END AS status,
  i.reviews,
  (SELECT count(*)::int FROM review_reservations v
    WHERE v.account_id = i.account_id AND v.item_id = i.id AND v.expires_at > now()) AS reserved,
  NOT EXISTS (SELECT 1 FROM runs r WHERE r.account_id = i.account_id AND r.id = i.run_id)
    AS run_deleted,
  i.completed_at, i.created_at`;

/** A queue as a review reads it: `version` is its xmin, which the review's count checks. */
interface QueueRead {
  name: string;
  archived: boolean;
  label_ids: string[];
  reviews_per_item: number;
  version: string;
}

/** An item as a review reads it (as JSON: its time is text), with the caller's standing. */
type ItemRead = Pick<ItemRow, 'id' | 'queue_id' | 'run_id' | 'output_name' | 'field_path'> & {
  reviews: number;
  created_at: string;
  reviewed: boolean;
  mine: boolean;
  others: number;
  review_ids: string[];
};

/**
 * What a review reads of an item (`i`): its columns, and the caller's ($4) standing on it:
 * whether they reviewed it, hold a live reservation of it, how many others do; its reviews.
 */
const ITEM_FOR_REVIEW = `i.id, i.queue_id, i.run_id, i.output_name, i.field_path, i.reviews,
  i.created_at,
  EXISTS (SELECT 1 FROM reviews r WHERE r.account_id = i.account_id
      AND r.item_id = i.id AND r.reviewer = $4) AS reviewed,
  EXISTS (SELECT 1 FROM review_reservations v WHERE v.account_id = i.account_id
      AND v.item_id = i.id AND v.reviewer = $4 AND v.expires_at > now()) AS mine,
  (SELECT count(*)::int FROM review_reservations v WHERE v.account_id = i.account_id
      AND v.item_id = i.id AND v.reviewer <> $4 AND v.expires_at > now()) AS others,
  ARRAY(SELECT r.id FROM reviews r WHERE r.account_id = i.account_id AND r.item_id = i.id
      ORDER BY r.created_at, r.id) AS review_ids`;

/**
 * What assay_claim_review answers (migrations ReviewsAtOnce, ClaimsReadTheRun): the item
 * claimed, and its run's outputs and version, null when the run was deleted.
 */
type ClaimedRow = Omit<ItemRow, 'status' | 'completed_at'> & {
  expires_at: Date;
  run_outputs: KeptRun['outputs'];
  run_version: string | null;
};

/** An item as a review needs it: what it reads of it, without the caller's standing. */
type ReviewedItem = Omit<ItemRead, 'reviewed' | 'mine' | 'others' | 'review_ids'>;

/** What a review is made from, read (readReview) or kept (keptReview). */
interface ReviewState {
  queue: QueueRead;
  item: ReviewedItem;
  /** Live reservations of the item by others. */
  others: number;
  /** The item's reviews so far. */
  reviewIds: string[];
  /** The review's values, in the order of the queue's labels. */
  values: { evaluation_label_id: string; value: number }[];
  targets: Targets;
}

/** Items claimed here, and queues reviewed here, that a review may find kept (keptReview). */
export const KEPT_ITEMS = 100_000;
export const KEPT_QUEUES = 10_000;

/** The key of a kept queue or item: its id as the database gives it, in lower case. */
const keptKey = (account: string, id: string) => `${account}:${id.toLowerCase()}`;

/** The review's evaluations, one per value, on the item's target. */
const reviewed = (item: ReviewedItem, values: ReviewState['values']) =>
  values.map((v) => ({
    run_id: item.run_id,
    evaluation_label_id: v.evaluation_label_id,
    value: v.value,
    output_name: item.output_name,
    field_path: item.field_path,
  }));

// SQLSTATEs of assay_claim_review (migrations ReviewsAtOnce, ClaimsReadTheRun).
const QUEUE_MISSING = 'AS011';
const QUEUE_ARCHIVED = 'AS012';

/** Alpha's metric by label value type (§18). */
const METRICS: Record<string, AlphaMetric> = {
  binary: 'nominal',
  categorical: 'nominal',
  ordinal: 'ordinal',
  continuous: 'interval',
};

function refuseEvaluators(principal: Principal, what: string): void {
  if (principal.evaluatorId !== null) {
    throw new ApiError(
      'reviews_are_by_people',
      `Reviews are by people: a token with an evaluator_id cannot ${what}. Use a person's ` +
        'token (its sub is the reviewer), or POST evaluations directly.',
    );
  }
}

function archivedRefusal(name: string, what: string): ApiError {
  return new ApiError(
    'queue_archived',
    `Review queue "${name}" is archived and takes no ${what}; its reviews stay readable.`,
  );
}

/** The same target, whatever the case of the run id: one key per run, output and field. */
const targetKey = (runId: string, outputName: string | null, fieldPath: string | null) =>
  JSON.stringify([runId.toLowerCase(), outputName, fieldPath]);

/**
 * Review queues: people claim an item, review it with one value per label of the queue, and
 * the server keeps every item to its number of reviews, whatever runs at once.
 */
@Injectable()
export class ReviewQueuesService {
  private readonly columns: string;
  /** Queues as reviews here last read them; items as claims here answered them. */
  private readonly keptQueues = new LRUCache<string, QueueRead>({ max: KEPT_QUEUES });
  private readonly keptItems = new LRUCache<string, ReviewedItem>({ max: KEPT_ITEMS });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly writes: WritePipeline,
    private readonly evaluations: EvaluationsService,
  ) {
    this.columns = selectColumns(db, ReviewQueueEntity);
  }

  create(principal: Principal, dto: CreateReviewQueueDto): Promise<ReviewQueueEntity> {
    const now = new Date();
    const queue: ReviewQueueEntity = Object.assign(new ReviewQueueEntity(), {
      accountId: principal.accountId,
      id: orderedUuids(1)[0],
      name: dto.name,
      description: dto.description ?? null,
      instructions: dto.instructions ?? null,
      labelIds: dto.label_ids.map((id) => id.toLowerCase()),
      reviewsPerItem: dto.reviews_per_item ?? 1,
      reservationSeconds: dto.reservation_seconds ?? DEFAULT_RESERVATION_SECONDS,
      archivedAt: null,
      createdBy: principal.sub,
      createdAt: now,
      updatedAt: null,
    });
    return this.writes.run(principal, async (w) => {
      await checkLabels(w.tx, principal, queue.labelIds);
      await w.tx.insert(ReviewQueueEntity, queue);
      w.emit('review_queue.created', toReviewQueueDto(queue));
      return queue;
    });
  }

  list(principal: Principal, query: ListReviewQueuesQueryDto): Promise<Page<ReviewQueueEntity>> {
    const where = ['account_id = $1'];
    if (!query.include_archived) where.push('archived_at IS NULL');
    return findPage(
      this.db,
      { columns: this.columns, from: 'review_queues', where, params: [principal.accountId] },
      query,
    );
  }

  async get(principal: Principal, id: string): Promise<ReviewQueueEntity> {
    const queue = await this.db
      .getRepository(ReviewQueueEntity)
      .findOneBy({ accountId: principal.accountId, id });
    if (!queue) throw queueNotFound(id);
    return queue;
  }

  update(principal: Principal, id: string, dto: UpdateReviewQueueDto): Promise<ReviewQueueEntity> {
    refuseNulls(dto, ['name', 'label_ids', 'reviews_per_item', 'reservation_seconds']);
    return this.writes.run(principal, async (w) => {
      const queue = await lockQueue(w.tx, principal, id, 'UPDATE');
      w.precondition(toReviewQueueDto(queue));
      const labelIds = dto.label_ids?.map((l) => l.toLowerCase());
      const scaleChanges =
        (labelIds !== undefined && JSON.stringify(labelIds) !== JSON.stringify(queue.labelIds)) ||
        (dto.reviews_per_item !== undefined && dto.reviews_per_item !== queue.reviewsPerItem);
      if (scaleChanges && (await hasReviews(w.tx, principal, id))) {
        throw new ApiError(
          'queue_has_reviews',
          'label_ids and reviews_per_item cannot change once the queue has reviews: what they ' +
            'mean would change under them. Create a new queue instead.',
        );
      }
      if (labelIds !== undefined) {
        await checkLabels(w.tx, principal, labelIds);
        queue.labelIds = labelIds;
      }
      if (dto.name !== undefined) queue.name = dto.name;
      if (dto.description !== undefined) queue.description = dto.description;
      if (dto.instructions !== undefined) queue.instructions = dto.instructions;
      if (dto.reviews_per_item !== undefined) queue.reviewsPerItem = dto.reviews_per_item;
      if (dto.reservation_seconds !== undefined) {
        queue.reservationSeconds = dto.reservation_seconds;
      }
      queue.updatedAt = new Date();
      await w.tx.save(queue);
      w.emit('review_queue.updated', toReviewQueueDto(queue));
      return queue;
    });
  }

  /** Removes a queue nobody reviewed in; archives one with reviews, so that they stay. */
  async remove(principal: Principal, id: string): Promise<void> {
    await this.writes.run(principal, async (w) => {
      const queue = await lockQueue(w.tx, principal, id, 'UPDATE');
      w.precondition(toReviewQueueDto(queue));
      if (!(await hasReviews(w.tx, principal, id))) {
        await w.tx.delete(ReviewQueueEntity, { accountId: principal.accountId, id });
        w.emit('review_queue.deleted', toReviewQueueDto(queue));
      } else if (!queue.archivedAt) {
        queue.archivedAt = new Date();
        queue.updatedAt = queue.archivedAt;
        await w.tx.save(queue);
        w.emit('review_queue.archived', toReviewQueueDto(queue));
      }
    });
  }

  /**
   * Queues targets; a target already queued (or sent twice) is left as it is. Each run must
   * be one of the account's; the output and field rules are checked when a review is made.
   */
  addItems(
    principal: Principal,
    id: string,
    dto: AddQueueItemsDto,
  ): Promise<{ added: ItemRow[]; already_queued: ItemRow[] }> {
    const sent = dto.items.map((item) => ({
      run_id: item.run_id.toLowerCase(),
      output_name: item.output_name ?? null,
      field_path: item.field_path ?? null,
    }));
    // Syntax first: a bad path is a 400 whatever is stored.
    sent.forEach((item, i) => {
      if (item.field_path === null) return;
      try {
        compileFieldPath(item.field_path);
      } catch (err) {
        if (err instanceof ApiError) {
          throw new ApiError(err.code, err.message, [
            { field: `items[${i}].field_path`, message: err.message },
          ]);
        }
        throw err;
      }
    });
    return this.writes.run(principal, async (w) => {
      const queue = await lockQueue(w.tx, principal, id, 'SHARE');
      if (queue.archivedAt) throw archivedRefusal(queue.name, 'new items');
      const runIds = [...new Set(sent.map((s) => s.run_id))];
      const found = await w.tx.query<{ id: string }[]>(
        `SELECT id FROM runs WHERE account_id = $1 AND id = ANY($2::uuid[]) FOR SHARE`,
        [principal.accountId, runIds],
      );
      const present = new Set(found.map((r) => r.id));
      const missing: ErrorDetail[] = sent.flatMap((s, i) =>
        present.has(s.run_id)
          ? []
          : [{ field: `items[${i}].run_id`, message: 'no run with this id in your account' }],
      );
      if (missing.length > 0) {
        const first = sent[Number(/\d+/.exec(missing[0].field)![0])].run_id;
        throw new ApiError(
          'not_found',
          `Run ${first} was not found${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}.`,
          missing,
        );
      }
      const ids = orderedUuids(sent.length);
      const rows = sent.map((s, i) => ({
        id: ids[i],
        ...s,
        target: targetKey(s.run_id, s.output_name, s.field_path),
      }));
      const inserted = await w.tx.query<{ id: string }[]>(
        `INSERT INTO review_queue_items (account_id, id, queue_id, run_id, output_name, field_path,
           target, reviews, completed_at, created_at)
         SELECT $1, id, $2, run_id, output_name, field_path, target, 0, NULL, $3
           FROM json_to_recordset($4::json)
             AS t(id uuid, run_id uuid, output_name text, field_path text, target text)
         ON CONFLICT (account_id, queue_id, target) DO NOTHING
         RETURNING id`,
        [principal.accountId, id, new Date(), JSON.stringify(rows)],
      );
      const items = await w.tx.query<(ItemRow & { target: string })[]>(
        `SELECT ${ITEM_COLUMNS}, i.target FROM review_queue_items i
          WHERE i.account_id = $1 AND i.queue_id = $2 AND i.target = ANY($3::text[])`,
        [principal.accountId, id, rows.map((r) => r.target)],
      );
      const byTarget = new Map(items.map(({ target, ...item }) => [target, item]));
      const fresh = new Set(inserted.map((r) => r.id));
      const added: ItemRow[] = [];
      const already: ItemRow[] = [];
      const answered = new Set<string>();
      for (const row of rows) {
        const item = byTarget.get(row.target)!;
        if (fresh.has(item.id) && !answered.has(item.id)) added.push(item);
        else already.push(item);
        answered.add(item.id);
      }
      return { added, already_queued: already };
    });
  }

  async listItems(
    principal: Principal,
    id: string,
    query: ListQueueItemsQueryDto,
  ): Promise<Page<ItemRow>> {
    await this.get(principal, id);
    const where = ['account_id = $1', 'queue_id = $2'];
    const params: unknown[] = [principal.accountId, id];
    if (query.status) {
      params.push(query.status);
      where.push(`status = $${params.length}`);
    }
    const page = await findPage<ItemRow & { createdAt: Date }>(
      this.db,
      {
        columns: '*',
        from: `(SELECT ${ITEM_COLUMNS}, i.account_id, i.created_at AS "createdAt"
                  FROM review_queue_items i WHERE i.account_id = $1 AND i.queue_id = $2) AS items`,
        where,
        params,
      },
      query,
    );
    return { ...page, items: page.items.map(shownItem) };
  }

  async progress(principal: Principal, id: string): Promise<ProgressDto> {
    await this.get(principal, id);
    const [row] = await this.db.query<
      { items: ProgressDto['items']; reviews: number; reviewers: ProgressDto['reviewers'] | null }[]
    >(
      `WITH items AS (SELECT ${ITEM_COLUMNS} FROM review_queue_items i
                       WHERE i.account_id = $1 AND i.queue_id = $2),
            by_reviewer AS (
              SELECT reviewer, sum(reviews)::int AS reviews, sum(reserved)::int AS reserved
                FROM (SELECT reviewer, 1 AS reviews, 0 AS reserved FROM reviews
                       WHERE account_id = $1 AND queue_id = $2
                      UNION ALL
                      SELECT reviewer, 0, 1 FROM review_reservations
                       WHERE account_id = $1 AND queue_id = $2 AND expires_at > now()) AS x
               GROUP BY reviewer)
       SELECT json_build_object(
                'pending', count(*) FILTER (WHERE status = 'pending'),
                'in_review', count(*) FILTER (WHERE status = 'in_review'),
                'completed', count(*) FILTER (WHERE status = 'completed'),
                'run_deleted', count(*) FILTER (WHERE run_deleted),
                'total', count(*)) AS items,
              (SELECT count(*)::int FROM reviews WHERE account_id = $1 AND queue_id = $2) AS reviews,
              (SELECT json_agg(b ORDER BY b.reviews DESC, b.reviewer) FROM by_reviewer b) AS reviewers
         FROM items`,
      [principal.accountId, id],
    );
    return { items: row.items, reviews: row.reviews, reviewers: row.reviewers ?? [] };
  }

  /**
   * Reserves the oldest item the caller has not reviewed that still has a place, for the
   * queue's reservation_seconds; undefined when there is none. One call of
   * assay_claim_review (migration ReviewsAtOnce), correct under concurrency, and at once:
   * alone in its write, it commits by itself.
   */
  async claim(
    principal: Principal,
    id: string,
  ): Promise<{ item: ItemRow; expires_at: Date } | undefined> {
    refuseEvaluators(principal, 'claim items');
    return this.writes.runAtOnce(principal, async (w) => {
      const [claimed] = await w
        .sendAlone<ClaimedRow[]>('SELECT * FROM assay_claim_review($1, $2, $3)', [
          principal.accountId,
          id,
          principal.sub,
        ])
        .catch((err: unknown) => {
          if (sqlState(err) === QUEUE_MISSING) throw queueNotFound(id);
          if (sqlState(err) === QUEUE_ARCHIVED) {
            throw archivedRefusal((err as QueryFailedError).driverError.message, 'claims');
          }
          throw err;
        });
      if (!claimed) return undefined;
      const { expires_at, run_outputs: outputs, run_version: version, ...item } = claimed;
      if (!w.inTransaction) this.keepClaimed(w, item, outputs, version);
      // Just reserved: open, and in review.
      return { item: shownItem({ ...item, status: 'in_review', completed_at: null }), expires_at };
    });
  }

  /** Keeps a claimed item and its run for the review that follows (keptReview). */
  private keepClaimed(
    w: WriteScope,
    item: Omit<ClaimedRow, 'expires_at' | 'run_outputs' | 'run_version'>,
    outputs: ClaimedRow['run_outputs'],
    version: string | null,
  ): void {
    const { id, queue_id, run_id, output_name, field_path, reviews } = item;
    const created_at = item.created_at.toISOString();
    const kept = { id, queue_id, run_id, output_name, field_path, reviews, created_at };
    this.keptItems.set(keptKey(w.principal.accountId, id), kept);
    // Never a deleted run: nothing confirms an absence.
    if (version !== null) this.evaluations.keepRun(w, { id: run_id, outputs, version$: version });
  }

  /** Gives back the caller's reservation of an item (none held: nothing to do). */
  async release(principal: Principal, id: string, itemId: string): Promise<ItemRow> {
    return this.writes.run(principal, async (w) => {
      await lockQueue(w.tx, principal, id, 'SHARE');
      await lockItem(w.tx, principal, id, itemId);
      await w.tx.query(
        `DELETE FROM review_reservations WHERE account_id = $1 AND item_id = $2 AND reviewer = $3`,
        [principal.accountId, itemId, principal.sub],
      );
      return readItem(w.tx, principal, id, itemId);
    });
  }

  /**
   * Records a review: its evaluations (created by the caller on the item's target, every rule
   * of an evaluation checked) and the review, in one write made at once. One statement reads
   * the queue, the item with the caller's standing on it, and the evaluations' run and
   * labels (readReview), unless all of it is kept (keptReview); the last one inserts the
   * evaluations and, through assay_record_review (migration ReviewsAtOnce), locks the queue
   * and the item, counts the item's places again and records the review, only if the queue
   * and the item are as read or kept: else the write runs again from a new read. So the item
   * never passes reviews_per_item, whatever runs at once.
   */
  review(
    principal: Principal,
    id: string,
    itemId: string,
    dto: CreateReviewDto,
  ): Promise<{
    id: string;
    item: ItemRow;
    evaluations: EvaluationEntity[];
    comment: string | null;
    reviewer: string;
    completed: boolean;
    createdAt: Date;
  }> {
    refuseEvaluators(principal, 'review');
    return this.writes
      .runAtOnce(principal, async (w) => {
        const { queue, item, others, reviewIds, values, targets } =
          this.keptReview(w, id, itemId, dto) ?? (await this.readReview(w, id, itemId, dto));
        const outcomes = await this.evaluations.createRead(w, reviewed(item, values), targets);
        const refusals = outcomes.flatMap((o, i) => ('error' in o ? [{ i, error: o.error }] : []));
        if (refusals.length > 0) throw reviewRefused(refusals, values);
        const evaluations = outcomes.map((o) => (o as { evaluation: EvaluationEntity }).evaluation);
        const perItem = queue.reviews_per_item;
        const reviews = item.reviews + 1;
        const completed = reviews >= perItem;
        const now = evaluations[0].createdAt;
        const reviewId = orderedUuids(1)[0];
        // The review joins the statement that inserts its evaluations: one round trip, sent
        // with the write's last. Its step returns one row when recorded.
        const s = w.takeLast();
        s.step(
          'recorded',
          `SELECT * FROM assay_record_review(${[
            principal.accountId,
            id,
            queue.version,
            itemId,
            principal.sub,
            item.reviews,
            reviewId,
            dto.comment ?? null,
            evaluations.map((e) => e.id),
            now,
          ]
            .map((p) => s.param(p))
            .join(', ')})`,
        );
        await w.lastly(s);
        w.expectRows('recorded', 1);
        const shown = shownItem({
          ...item,
          status: completed ? 'completed' : 'in_review',
          reviews,
          reserved: completed ? 0 : others,
          run_deleted: false,
          completed_at: completed ? now : null,
          created_at: new Date(item.created_at),
        });
        if (completed) {
          w.emit('review_queue.item_completed', { ...shown, review_ids: [...reviewIds, reviewId] });
        }
        w.afterCommit(() => this.keptItems.delete(keptKey(principal.accountId, itemId)));
        return {
          id: reviewId,
          item: shown,
          evaluations,
          comment: dto.comment ?? null,
          reviewer: principal.sub,
          completed,
          createdAt: now,
        };
      })
      .catch((err: unknown) => {
        if (sqlState(err) === UNIQUE_VIOLATION) {
          throw alreadyReviewed(itemId);
        }
        throw err;
      });
  }

  /**
   * What a review needs, kept by this instance, for the first review of an item it claimed
   * that completes it (a queue of one review per item, the default): the queue as the last
   * review here read it, the item as its claim answered it, runs and labels as earlier
   * writes read them. The review's one statement then reads nothing first:
   * assay_record_review records it only if the queue and the item are still as kept and
   * the caller may review it, and the evaluations' own check covers runs and labels; else
   * the write runs again from a fresh read, which says why. Undefined when anything is not
   * kept or would be refused on what is: every refusal rests on a fresh read.
   */
  private keptReview(
    w: WriteScope,
    id: string,
    itemId: string,
    dto: CreateReviewDto,
  ): ReviewState | undefined {
    if (w.inTransaction || w.attempt > 1) return undefined;
    const account = w.principal.accountId;
    const queue = this.keptQueues.get(keptKey(account, id));
    const item = this.keptItems.get(keptKey(account, itemId));
    if (!queue || !item || item.queue_id !== id.toLowerCase() || queue.archived) return undefined;
    // Its reviews so far are none, so the completed item's review ids are this one's alone.
    if (item.reviews !== 0 || queue.reviews_per_item !== 1) return undefined;
    let values: ReviewState['values'];
    try {
      values = matchLabels(queue.label_ids, dto);
    } catch {
      return undefined;
    }
    const targets = this.evaluations.keptTargetsPassing(w, reviewed(item, values));
    return targets && { queue, item, others: 0, reviewIds: [], values, targets };
  }

  /**
   * What a review needs, read in one statement: the queue, the item with the caller's
   * standing on it, and the evaluations' run and labels; refused here when the review cannot
   * be made.
   */
  private async readReview(
    w: WriteScope,
    id: string,
    itemId: string,
    dto: CreateReviewDto,
  ): Promise<ReviewState> {
    const account = w.principal.accountId;
    const {
      queues: [queue],
      items: [read],
      ...targets
    } = await w.readShared<{ queues: QueueRead[]; items: ItemRead[] } & Targets>(
      {
        queues: {
          table: 'review_queues',
          columns: `name, archived_at IS NOT NULL AS archived, label_ids, reviews_per_item,
            xmin::text AS version`,
          where: 'account_id = $1 AND id = $2',
          asIs: true,
        },
        items: {
          table: 'review_queue_items i',
          columns: ITEM_FOR_REVIEW,
          where: 'i.account_id = $1 AND i.queue_id = $2 AND i.id = $3',
          asIs: true,
        },
        ...this.evaluations.targetReads(
          '$1',
          'ARRAY(SELECT run_id FROM review_queue_items WHERE account_id = $1 AND id = $3)',
          `ARRAY(SELECT jsonb_array_elements_text(label_ids)::uuid FROM review_queues
                  WHERE account_id = $1 AND id = $2)`,
        ),
      },
      [account, id, itemId, w.principal.sub],
    );
    if (!queue) throw queueNotFound(id);
    if (!w.inTransaction) this.keptQueues.set(keptKey(account, id), queue);
    this.evaluations.keepTargets(w, targets);
    if (queue.archived) throw archivedRefusal(queue.name, 'reviews');
    const values = matchLabels(queue.label_ids, dto);
    if (!read) throw itemNotFound(itemId);
    const { reviewed: done, mine, others, review_ids: reviewIds, ...item } = read;
    if (done) {
      throw alreadyReviewed(itemId);
    }
    if (targets.runs.length === 0) {
      throw new ApiError(
        'run_deleted',
        `Run ${item.run_id} of item ${itemId} was deleted after it was queued: it cannot be ` +
          'reviewed.',
      );
    }
    const perItem = queue.reviews_per_item;
    if (item.reviews >= perItem) {
      throw new ApiError(
        'item_full',
        `Item ${itemId} already has its ${perItem} review(s); claim another one.`,
      );
    }
    if (!mine && item.reviews + others >= perItem) {
      throw new ApiError(
        'item_full',
        `Item ${itemId} has no place left for your review (${item.reviews} review(s), ` +
          `${others} reserved by others, ${perItem} wanted), and you hold ` +
          'no live reservation of it; claim another item.',
      );
    }
    return { queue, item, others, reviewIds, values, targets };
  }

  /**
   * Krippendorff's alpha per label across the queue's reviewers. The database pairs the values
   * (the coincidence matrix: for every item with m ≥ 2 values of the label, each ordered pair
   * of two reviews' values weighs 1/(m − 1)); alpha is worked out from it here.
   */
  async agreement(principal: Principal, id: string): Promise<AgreementDto> {
    const queue = await this.get(principal, id);
    const rows = await this.db.query<
      { label: string; value_type: string; c: number; k: number; o: number }[]
    >(
      `WITH v AS (
         SELECT r.id AS review, r.item_id AS unit, r.reviewer, e.evaluation_label_id AS label,
                e.value
           FROM reviews r
           JOIN run_evaluations e ON e.account_id = r.account_id AND e.id = ANY (r.evaluation_ids)
          WHERE r.account_id = $1 AND r.queue_id = $2),
       m AS (SELECT label, unit, count(*) AS m FROM v GROUP BY label, unit HAVING count(*) >= 2)
       SELECT a.label, l.value_type, a.value AS c, b.value AS k,
              sum(1.0::float8 / (m.m - 1)) AS o
         FROM v a
         JOIN m ON m.label = a.label AND m.unit = a.unit
         JOIN v b ON b.label = a.label AND b.unit = a.unit AND b.review <> a.review
         JOIN evaluation_labels l ON l.account_id = $1 AND l.id = a.label
        GROUP BY a.label, l.value_type, a.value, b.value`,
      [principal.accountId, id],
    );
    const counts = await this.db.query<
      { label: string; items: number; reviews: number; reviewers: number }[]
    >(
      `WITH v AS (
         SELECT r.item_id AS unit, r.reviewer, e.evaluation_label_id AS label
           FROM reviews r
           JOIN run_evaluations e ON e.account_id = r.account_id AND e.id = ANY (r.evaluation_ids)
          WHERE r.account_id = $1 AND r.queue_id = $2),
       m AS (SELECT label, unit FROM v GROUP BY label, unit HAVING count(*) >= 2)
       SELECT v.label, count(DISTINCT v.unit)::int AS items, count(*)::int AS reviews,
              count(DISTINCT v.reviewer)::int AS reviewers
         FROM v JOIN m ON m.label = v.label AND m.unit = v.unit
        GROUP BY v.label`,
      [principal.accountId, id],
    );
    const types = await this.db.query<{ id: string; value_type: string }[]>(
      'SELECT id, value_type FROM evaluation_labels WHERE account_id = $1 AND id = ANY($2::uuid[])',
      [principal.accountId, queue.labelIds],
    );
    const typeOf = new Map(types.map((t) => [t.id, t.value_type]));
    return {
      queue_id: queue.id,
      labels: queue.labelIds.map((label) => {
        const metric = METRICS[typeOf.get(label) ?? 'continuous'];
        const cells: Coincidence[] = rows
          .filter((r) => r.label === label)
          .map((r) => ({ c: Number(r.c), k: Number(r.k), o: Number(r.o) }));
        const n = counts.find((c) => c.label === label);
        return {
          evaluation_label_id: label,
          metric,
          alpha: krippendorffAlpha(cells, metric),
          items: n?.items ?? 0,
          reviews: n?.reviews ?? 0,
          reviewers: n?.reviewers ?? 0,
        };
      }),
    };
  }
}

/** An item row with its counts as numbers, whatever the driver made of them. */
function shownItem(row: ItemRow & { createdAt?: Date; account_id?: string }): ItemRow {
  return {
    id: row.id,
    queue_id: row.queue_id,
    run_id: row.run_id,
    output_name: row.output_name,
    field_path: row.field_path,
    status: row.status,
    reviews: Number(row.reviews),
    reserved: Number(row.reserved),
    run_deleted: row.run_deleted,
    completed_at: row.completed_at,
    created_at: row.created_at,
  };
}

/** Labels of the account, not archived, each named once: what a queue may ask for. */
async function checkLabels(tx: EntityManager, principal: Principal, ids: string[]): Promise<void> {
  const twice = ids.findIndex((id, i) => ids.indexOf(id) !== i);
  if (twice >= 0) {
    throw new ApiError('validation_failed', `label_ids names label ${ids[twice]} twice.`, [
      { field: `label_ids[${twice}]`, message: 'named twice' },
    ]);
  }
  const found = await tx.query<{ id: string; name: string; archived: boolean }[]>(
    `SELECT id, name, archived_at IS NOT NULL AS archived FROM evaluation_labels
      WHERE account_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR SHARE`,
    [principal.accountId, ids],
  );
  const byId = new Map(found.map((l) => [l.id, l]));
  const missing = ids.findIndex((id) => !byId.has(id));
  if (missing >= 0) {
    throw new ApiError('not_found', `Evaluation label ${ids[missing]} was not found.`, [
      {
        field: `label_ids[${missing}]`,
        message: 'no evaluation label with this id in your account',
      },
    ]);
  }
  const archived = ids.findIndex((id) => byId.get(id)!.archived);
  if (archived >= 0) {
    throw new ApiError(
      'label_archived',
      `Label "${byId.get(ids[archived])!.name}" is archived and takes no new evaluations; ` +
        'use a live label.',
      [{ field: `label_ids[${archived}]`, message: 'the label is archived' }],
    );
  }
}

/** The review's values in the order of the queue's labels: exactly one for each. */
function matchLabels(
  labelIds: string[],
  dto: CreateReviewDto,
): { evaluation_label_id: string; value: number }[] {
  const sent = dto.evaluations.map((e) => ({
    ...e,
    evaluation_label_id: e.evaluation_label_id.toLowerCase(),
  }));
  const problems: ErrorDetail[] = [];
  sent.forEach((e, i) => {
    if (!labelIds.includes(e.evaluation_label_id)) {
      problems.push({
        field: `evaluations[${i}].evaluation_label_id`,
        message: `label ${e.evaluation_label_id} is not one of the queue's labels`,
      });
    } else if (sent.findIndex((o) => o.evaluation_label_id === e.evaluation_label_id) !== i) {
      problems.push({
        field: `evaluations[${i}].evaluation_label_id`,
        message: `label ${e.evaluation_label_id} is given twice`,
      });
    }
  });
  for (const label of labelIds) {
    if (!sent.some((e) => e.evaluation_label_id === label)) {
      problems.push({ field: 'evaluations', message: `no value for label ${label}` });
    }
  }
  if (problems.length > 0) {
    throw new ApiError(
      'review_labels_mismatch',
      `A review gives exactly one value for each of the queue's ${labelIds.length} ` +
        `label(s): ${problems.map((p) => p.message).join('; ')}.`,
      problems,
    );
  }
  return labelIds.map((label) => sent.find((e) => e.evaluation_label_id === label)!);
}

/** The first refusal of a review's evaluations, its details pointing into `evaluations`. */
function reviewRefused(
  refusals: { i: number; error: ApiError }[],
  values: { evaluation_label_id: string }[],
): ApiError {
  const [{ error }] = refusals;
  const details = refusals.flatMap(({ i, error: e }) =>
    (e.details ?? [{ field: '', message: e.message }]).map((d) => ({
      field: `evaluations[${i}]${d.field ? `.${d.field}` : ''}`,
      message: `label ${values[i].evaluation_label_id}: ${d.message}`,
    })),
  );
  return new ApiError(error.code, error.message, details);
}

async function lockQueue(
  tx: EntityManager,
  principal: Principal,
  id: string,
  mode: 'UPDATE' | 'SHARE',
): Promise<ReviewQueueEntity> {
  const queue = await tx.findOne(ReviewQueueEntity, {
    where: { accountId: principal.accountId, id },
    lock: { mode: mode === 'UPDATE' ? 'pessimistic_write' : 'pessimistic_read' },
  });
  if (!queue) throw queueNotFound(id);
  return queue;
}

async function hasReviews(tx: EntityManager, principal: Principal, id: string): Promise<boolean> {
  const [{ any }] = await tx.query<{ any: boolean }[]>(
    'SELECT EXISTS (SELECT 1 FROM reviews WHERE account_id = $1 AND queue_id = $2) AS any',
    [principal.accountId, id],
  );
  return any;
}

/** Locks an item of the queue: claims and reviews of it take turns. */
async function lockItem(
  tx: EntityManager,
  principal: Principal,
  queueId: string,
  itemId: string,
): Promise<{ run_id: string; output_name: string | null; field_path: string | null } & ItemRow> {
  const [item] = await tx.query<ItemRow[]>(
    `SELECT ${ITEM_COLUMNS} FROM review_queue_items i
      WHERE i.account_id = $1 AND i.queue_id = $2 AND i.id = $3 FOR UPDATE OF i`,
    [principal.accountId, queueId, itemId],
  );
  if (!item) throw itemNotFound(itemId);
  return shownItem(item);
}

async function readItem(
  tx: EntityManager,
  principal: Principal,
  queueId: string,
  itemId: string,
): Promise<ItemRow> {
  const [item] = await tx.query<ItemRow[]>(
    `SELECT ${ITEM_COLUMNS} FROM review_queue_items i
      WHERE i.account_id = $1 AND i.queue_id = $2 AND i.id = $3`,
    [principal.accountId, queueId, itemId],
  );
  if (!item) throw itemNotFound(itemId);
  return shownItem(item);
}

export type { ItemStatus };
