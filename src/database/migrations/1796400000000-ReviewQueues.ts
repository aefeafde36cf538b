import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Review queues: queues of runs to review, their items, the reservations that hold an item
 * for a reviewer, and the reviews. `assay_claim_review_item` is the claim: one statement for
 * the service, correct whatever claims and reviews run beside it (see its comments).
 */
export class ReviewQueues1796400000000 implements MigrationInterface {
  name = 'ReviewQueues1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "review_queues" ("account_id" character varying(200) NOT NULL, "id" uuid NOT NULL, "name" character varying(200) NOT NULL, "description" text, "instructions" text, "label_ids" jsonb NOT NULL, "reviews_per_item" integer NOT NULL, "reservation_seconds" integer NOT NULL, "archived_at" TIMESTAMP(3) WITH TIME ZONE, "created_by" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_49d63a91564d25a830bcf591328" PRIMARY KEY ("account_id", "id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_review_queues_order" ON "review_queues"  ("account_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "review_queue_items" ("account_id" character varying(200) NOT NULL, "id" uuid NOT NULL, "queue_id" uuid NOT NULL, "run_id" uuid NOT NULL, "output_name" text, "field_path" text, "target" text NOT NULL, "reviews" integer NOT NULL, "completed_at" TIMESTAMP(3) WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "PK_ae57397c6a653fb7e8b2011e733" PRIMARY KEY ("account_id", "id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_review_queue_items_open" ON "review_queue_items"  ("account_id", "queue_id", "created_at", "id") WHERE "completed_at" IS NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_review_queue_items_target" ON "review_queue_items"  ("account_id", "queue_id", "target") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_review_queue_items_order" ON "review_queue_items"  ("account_id", "queue_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "review_reservations" ("account_id" character varying(200) NOT NULL, "item_id" uuid NOT NULL, "reviewer" text NOT NULL, "queue_id" uuid NOT NULL, "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "PK_39663ef4c63eaee967533bb94ee" PRIMARY KEY ("account_id", "item_id", "reviewer"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "reviews" ("account_id" character varying(200) NOT NULL, "id" uuid NOT NULL, "queue_id" uuid NOT NULL, "item_id" uuid NOT NULL, "reviewer" text NOT NULL, "comment" text, "evaluation_ids" uuid array NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "PK_fd9318cfb07b1b687377f683b7d" PRIMARY KEY ("account_id", "id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_reviews_reviewer" ON "reviews"  ("account_id", "item_id", "reviewer") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_reviews_order" ON "reviews"  ("account_id", "queue_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "review_queue_items" ADD CONSTRAINT "FK_98fbab2e374f42989e9ffd8cfed" FOREIGN KEY ("account_id", "queue_id") REFERENCES "review_queues"("account_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "review_reservations" ADD CONSTRAINT "FK_0a20116826dc1d594dfd7183b6f" FOREIGN KEY ("account_id", "item_id") REFERENCES "review_queue_items"("account_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "reviews" ADD CONSTRAINT "FK_8fe7edeeee238eb0b44f5e3d23c" FOREIGN KEY ("account_id", "item_id") REFERENCES "review_queue_items"("account_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(claimReviewItem(EXISTS_CHECKS));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP FUNCTION "assay_claim_review_item"(text, uuid, text, integer, integer)`,
    );
    await queryRunner.query(
      `ALTER TABLE "reviews" DROP CONSTRAINT "FK_8fe7edeeee238eb0b44f5e3d23c"`,
    );
    await queryRunner.query(
      `ALTER TABLE "review_reservations" DROP CONSTRAINT "FK_0a20116826dc1d594dfd7183b6f"`,
    );
    await queryRunner.query(
      `ALTER TABLE "review_queue_items" DROP CONSTRAINT "FK_98fbab2e374f42989e9ffd8cfed"`,
    );
    await queryRunner.query(`DROP INDEX "public"."IDX_reviews_order"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_reviews_reviewer"`);
    await queryRunner.query(`DROP TABLE "reviews"`);
    await queryRunner.query(`DROP TABLE "review_reservations"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_review_queue_items_order"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_review_queue_items_target"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_review_queue_items_open"`);
    await queryRunner.query(`DROP TABLE "review_queue_items"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_review_queues_order"`);
    await queryRunner.query(`DROP TABLE "review_queues"`);
  }
}

/** How the claim first checked each open item it passed: the planner may make these joins. */
export const EXISTS_CHECKS = `                  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.account_id = p_account
                                     AND r.item_id = i.id AND r.reviewer = p_reviewer)
                  AND EXISTS (SELECT 1 FROM runs WHERE runs.account_id = p_account AND runs.id = i.run_id)
                  AND i.reviews + (SELECT count(*) FROM review_reservations v
                                    WHERE v.account_id = p_account AND v.item_id = i.id
                                      AND v.reviewer <> p_reviewer AND v.expires_at > now()) < p_per_item`;

/**
 * The claim, `checks` being what it asks of each open item it passes, in queue order. An
 * item's places are its reviews_per_item; a review or a live reservation of another
 * reviewer takes one. Every claim and every review locks the item's row before it
 * counts, and each statement of a PL/pgSQL function reads what committed before it began
 * (READ COMMITTED): counted after the lock, the places are exact, so an item is never
 * reserved past its places (one statement reading then locking could count from a snapshot
 * older than the lock). First the oldest open item not locked by another claim
 * (SKIP LOCKED, so that claimers spread over items); when there is none, the same again
 * waiting for locks, so that an item with a place left is never missed because another
 * claim held it for a moment. Items whose run is gone are skipped.
 */
export function claimReviewItem(checks: string): string {
  return `CREATE FUNCTION assay_claim_review_item(p_account text, p_queue uuid, p_reviewer text,
           p_per_item integer, p_seconds integer)
         RETURNS TABLE (item_id uuid, expires_at timestamptz)
         LANGUAGE plpgsql VOLATILE AS $$
       #variable_conflict use_column
       DECLARE
         candidate uuid;
         seen uuid[] := '{}';
         waiting boolean := false;
         taken bigint;
       BEGIN
         LOOP
           candidate := NULL;
           -- A block of its own: an item found full after all is let go at once (the block's
           -- subtransaction is rolled back, which releases its lock), so that a claim never
           -- holds one item while it waits for another, and claims cannot deadlock.
           BEGIN
             IF waiting THEN
               SELECT i.id INTO candidate FROM review_queue_items i
                WHERE i.account_id = p_account AND i.queue_id = p_queue AND i.completed_at IS NULL
                  AND i.id <> ALL (seen)
${checks}
                ORDER BY i.created_at, i.id
                LIMIT 1
                FOR UPDATE OF i;
             ELSE
               SELECT i.id INTO candidate FROM review_queue_items i
                WHERE i.account_id = p_account AND i.queue_id = p_queue AND i.completed_at IS NULL
                  AND i.id <> ALL (seen)
${checks}
                ORDER BY i.created_at, i.id
                LIMIT 1
                FOR UPDATE OF i SKIP LOCKED;
             END IF;
             IF candidate IS NOT NULL THEN
               -- Counted again under the lock, by a statement that sees every earlier commit.
               SELECT i.reviews + (SELECT count(*) FROM review_reservations v
                                    WHERE v.account_id = p_account AND v.item_id = i.id
                                      AND v.reviewer <> p_reviewer AND v.expires_at > now())
                 INTO taken
                 FROM review_queue_items i
                WHERE i.account_id = p_account AND i.id = candidate AND i.completed_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.account_id = p_account
                                     AND r.item_id = i.id AND r.reviewer = p_reviewer);
               IF taken IS NOT NULL AND taken < p_per_item THEN
                 RETURN QUERY
                   INSERT INTO review_reservations AS v (account_id, item_id, reviewer, queue_id, expires_at)
                   VALUES (p_account, candidate, p_reviewer, p_queue,
                           now() + make_interval(secs => p_seconds))
                   ON CONFLICT (account_id, item_id, reviewer)
                     DO UPDATE SET expires_at = EXCLUDED.expires_at
                   RETURNING v.item_id, v.expires_at;
                 RETURN;
               END IF;
               RAISE EXCEPTION 'item full' USING ERRCODE = 'AS010';
             END IF;
           EXCEPTION WHEN SQLSTATE 'AS010' THEN
             seen := seen || candidate;
           END;
           IF candidate IS NULL THEN
             IF waiting THEN RETURN; END IF;
             waiting := true;
           END IF;
         END LOOP;
       END $$`;
}
