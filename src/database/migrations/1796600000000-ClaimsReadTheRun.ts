import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A claim answers, beside the item, its run's outputs and version (`xmin`) as they are when
 * it claims: what the review of that item checks its evaluations against, so that the
 * instance can keep them and the review read nothing first (its last statement checks that
 * the run is still as claimed). Both are null when the run was deleted.
 */
export class ClaimsReadTheRun1796600000000 implements MigrationInterface {
  name = 'ClaimsReadTheRun1796600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION assay_claim_review(text, uuid, text)`);
    await queryRunner.query(claimReview(true));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION assay_claim_review(text, uuid, text)`);
    await queryRunner.query(claimReview(false));
  }
}

/** assay_claim_review as ReviewsAtOnce made it, with the run's outputs and version or not. */
function claimReview(withRun: boolean): string {
  return `CREATE FUNCTION assay_claim_review(p_account text, p_queue uuid, p_reviewer text)
     RETURNS TABLE (id uuid, queue_id uuid, run_id uuid, output_name text, field_path text,
                    reviews integer, reserved integer, run_deleted boolean,
                    created_at timestamptz, expires_at timestamptz
                    ${withRun ? ', run_outputs jsonb, run_version text' : ''})
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
              r.id IS NULL, i.created_at, claimed.expires_at
              ${withRun ? ', r.outputs, r.xmin::text' : ''}
         FROM review_queue_items i
         LEFT JOIN runs r ON r.account_id = p_account AND r.id = i.run_id
        WHERE i.account_id = p_account AND i.id = claimed.item_id;
   END $$`;
}
