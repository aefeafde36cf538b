import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A claim and a review each made at once, without a transaction: `assay_claim_review` is the
 * whole claim in one call, and `assay_record_review` the part of a review's one statement
 * that must count under the item's lock.
 */
export class ReviewsAtOnce1796500000000 implements MigrationInterface {
  name = 'ReviewsAtOnce1796500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // The claim: the queue read as it is (a reservation only holds a place, and the review
    // checks everything again), refused when missing (AS011) or archived (AS012, its name as
    // the message); then assay_claim_review_item, correct under concurrency as its migration
    // explains; then the item as it is after the reservation, read by a statement of its own
    // so that the new reservation counts among the live ones.
    await queryRunner.query(
      `CREATE FUNCTION assay_claim_review(p_account text, p_queue uuid, p_reviewer text)
         RETURNS TABLE (id uuid, queue_id uuid, run_id uuid, output_name text, field_path text,
                        reviews integer, reserved integer, run_deleted boolean,
                        created_at timestamptz, expires_at timestamptz)
         LANGUAGE plpgsql VOLATILE AS $$
       #variable_conflict use_column
       DECLARE
         queue record;
         claimed record;
       BEGIN
         SELECT q.name, q.archived_at, q.reviews_per_item, q.reservation_seconds INTO queue
           FROM review_queues q WHERE q.account_id = p_account AND q.id = p_queue;
         IF NOT FOUND THEN
           RAISE EXCEPTION 'no such review queue' USING ERRCODE = 'AS011';
         END IF;
         IF queue.archived_at IS NOT NULL THEN
           RAISE EXCEPTION USING ERRCODE = 'AS012', MESSAGE = queue.name;
         END IF;
         SELECT c.item_id, c.expires_at INTO claimed
           FROM assay_claim_review_item(p_account, p_queue, p_reviewer, queue.reviews_per_item,
                                        queue.reservation_seconds) c;
         IF NOT FOUND THEN RETURN; END IF;
         RETURN QUERY
           SELECT i.id, i.queue_id, i.run_id, i.output_name, i.field_path, i.reviews,
                  (SELECT count(*)::int FROM review_reservations v
                    WHERE v.account_id = p_account AND v.item_id = i.id AND v.expires_at > now()),
                  NOT EXISTS (SELECT 1 FROM runs r WHERE r.account_id = p_account AND r.id = i.run_id),
                  i.created_at, claimed.expires_at
             FROM review_queue_items i WHERE i.account_id = p_account AND i.id = claimed.item_id;
       END $$`,
    );
    // A review's count, the last part of the statement that also inserts its evaluations. It
    // locks the queue (shared, as it was read: p_queue_version is its xmin) and then the item
    // (as it was read: p_reviews reviews, open), the order of every write that locks both, so
    // that none can deadlock. The places are counted by a statement of their own after the
    // locks, which sees every claim and review committed before them (READ COMMITTED), as the
    // claim counts them. Then the review, the item's count and the end of the reservations
    // it frees. It returns the review's id, or nothing when anything differs from what the
    // write read: the write is then made again from a new read, which says why.
    await queryRunner.query(
      `CREATE FUNCTION assay_record_review(p_account text, p_queue uuid, p_queue_version text,
           p_item uuid, p_reviewer text, p_reviews integer, p_review uuid, p_comment text,
           p_evaluations uuid[], p_at timestamptz)
         RETURNS SETOF uuid
         LANGUAGE plpgsql VOLATILE AS $$
       DECLARE
         per_item integer;
         has_place boolean;
         completes boolean;
       BEGIN
         SELECT q.reviews_per_item INTO per_item FROM review_queues q
          WHERE q.account_id = p_account AND q.id = p_queue AND q.xmin::text = p_queue_version
          FOR SHARE;
         IF NOT FOUND THEN RETURN; END IF;
         PERFORM 1 FROM review_queue_items i
          WHERE i.account_id = p_account AND i.id = p_item AND i.queue_id = p_queue
            AND i.reviews = p_reviews AND i.completed_at IS NULL
          FOR UPDATE;
         IF NOT FOUND THEN RETURN; END IF;
         SELECT p_reviews < per_item
                AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.account_id = p_account
                                   AND r.item_id = p_item AND r.reviewer = p_reviewer)
                AND (EXISTS (SELECT 1 FROM review_reservations v WHERE v.account_id = p_account
                               AND v.item_id = p_item AND v.reviewer = p_reviewer
                               AND v.expires_at > now())
                     OR p_reviews + (SELECT count(*) FROM review_reservations v
                                      WHERE v.account_id = p_account AND v.item_id = p_item
                                        AND v.reviewer <> p_reviewer AND v.expires_at > now())
                        < per_item)
           INTO has_place;
         IF NOT has_place THEN RETURN; END IF;
         completes := p_reviews + 1 >= per_item;
         INSERT INTO reviews (account_id, id, queue_id, item_id, reviewer, comment,
                              evaluation_ids, created_at)
         VALUES (p_account, p_review, p_queue, p_item, p_reviewer, p_comment, p_evaluations, p_at);
         UPDATE review_queue_items i SET reviews = p_reviews + 1,
                completed_at = CASE WHEN completes THEN p_at END
          WHERE i.account_id = p_account AND i.id = p_item;
         DELETE FROM review_reservations v
          WHERE v.account_id = p_account AND v.item_id = p_item
            AND (v.reviewer = p_reviewer OR v.expires_at <= now() OR completes);
         RETURN NEXT p_review;
       END $$`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP FUNCTION "assay_record_review"(text, uuid, text, uuid, text, integer, uuid, text, uuid[], timestamptz)`,
    );
    await queryRunner.query(`DROP FUNCTION "assay_claim_review"(text, uuid, text)`);
  }
}
