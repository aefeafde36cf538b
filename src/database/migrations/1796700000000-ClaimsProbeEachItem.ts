import { MigrationInterface, QueryRunner } from 'typeorm';
import { claimReviewItem, EXISTS_CHECKS } from './1796400000000-ReviewQueues.js';

/**
 * The claim asks of each open item it passes whether the reviewer has reviewed it and whether
 * its run is still there as one index probe each. Written as NOT EXISTS and EXISTS, the
 * planner may join instead, and did when the statistics were older than the rows: it read
 * all of the account's reviews by that reviewer through the index, skipping item_id, and
 * all of its runs, on every claim (104–125 ms a claim with 1,000,000 reviews in the account,
 * against 0.5–1.3 ms as probes). As scalar subqueries they are evaluated per item, by key,
 * whatever the statistics say.
 *
 * And the review functions keep their statements' plans. Assay's connections plan every
 * statement for its parameters (data-source-options.ts); inside these functions that meant
 * planning each of their statements on every call, which took longer than running them
 * (1.0–1.3 ms of planning against 0.5 ms of execution for the claim's search). With
 * `plan_cache_mode = auto` PostgreSQL keeps a generic plan once it costs no more than the
 * custom ones.
 */
export class ClaimsProbeEachItem1796700000000 implements MigrationInterface {
  name = 'ClaimsProbeEachItem1796700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP FUNCTION assay_claim_review_item(text, uuid, text, integer, integer)`,
    );
    await queryRunner.query(claimReviewItem(PROBE_CHECKS));
    for (const f of FUNCTIONS)
      await queryRunner.query(`ALTER FUNCTION ${f} SET plan_cache_mode = auto`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const f of FUNCTIONS) await queryRunner.query(`ALTER FUNCTION ${f} RESET plan_cache_mode`);
    await queryRunner.query(
      `DROP FUNCTION assay_claim_review_item(text, uuid, text, integer, integer)`,
    );
    await queryRunner.query(claimReviewItem(EXISTS_CHECKS));
  }
}

const PROBE_CHECKS = `
                  AND (SELECT count(*) FROM reviews r WHERE r.account_id = p_account
                        AND r.item_id = i.id AND r.reviewer = p_reviewer) = 0
                  AND (SELECT count(*) FROM runs WHERE runs.account_id = p_account
                        AND runs.id = i.run_id) > 0
                  AND i.reviews + (SELECT count(*) FROM review_reservations v
                                    WHERE v.account_id = p_account AND v.item_id = i.id
                                      AND v.reviewer <> p_reviewer AND v.expires_at > now()) < p_per_item`;

const FUNCTIONS = [
  'assay_claim_review_item(text, uuid, text, integer, integer)',
  'assay_claim_review(text, uuid, text)',
  'assay_record_review(text, uuid, text, uuid, text, integer, uuid, text, uuid[], timestamptz)',
];
