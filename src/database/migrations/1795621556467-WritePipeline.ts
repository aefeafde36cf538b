import { MigrationInterface, QueryRunner } from 'typeorm';

export class WritePipeline1795621556467 implements MigrationInterface {
  name = 'WritePipeline1795621556467';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "evaluators" ("account_id" character varying(200) NOT NULL, "id" uuid NOT NULL, "name" character varying(200) NOT NULL, "kind" character varying(16) NOT NULL, "description" text, "version" character varying(200), "metadata" jsonb, "disabled_at" TIMESTAMP(3) WITH TIME ZONE, "created_by" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_e2f9db508f190093421a978317a" PRIMARY KEY ("account_id", "id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_evaluators_name" ON "evaluators"  ("account_id", "name") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_evaluators_order" ON "evaluators"  ("account_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "outbox_events" ("seq" BIGSERIAL NOT NULL, "id" uuid NOT NULL, "account_id" character varying(200) NOT NULL, "type" character varying(64) NOT NULL, "occurred_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "data" json NOT NULL, "position" bigint, "sent_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_cc48a1566b3b842a82f0b2615c8" PRIMARY KEY ("seq"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_outbox_events_unsent" ON "outbox_events"  ("position") WHERE "sent_at" IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_outbox_events_unpositioned" ON "outbox_events"  ("seq") WHERE "position" IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_outbox_events_account_position" ON "outbox_events"  ("account_id", "position") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_outbox_events_position" ON "outbox_events"  ("position") `,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_outbox_events_id" ON "outbox_events"  ("id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "idempotency_keys" ("account_id" character varying(200) NOT NULL, "key" character varying(255) NOT NULL, "fingerprint" character(64) NOT NULL, "status" smallint, "headers" jsonb, "body" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "PK_797bef48c094807d04973d995e9" PRIMARY KEY ("account_id", "key"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_idempotency_keys_expires" ON "idempotency_keys"  ("expires_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_evaluation_changes_evaluator" ON "evaluation_changes"  ("account_id", "changed_by_evaluator_id") WHERE "changed_by_evaluator_id" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_evaluation_changes_evaluator"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_idempotency_keys_expires"`);
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_outbox_events_id"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_outbox_events_position"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_outbox_events_account_position"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_outbox_events_unpositioned"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_outbox_events_unsent"`);
    await queryRunner.query(`DROP TABLE "outbox_events"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_evaluators_order"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_evaluators_name"`);
    await queryRunner.query(`DROP TABLE "evaluators"`);
  }
}
