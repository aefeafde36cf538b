import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks (PRODUCT.md §17): the endpoints, each event owed to one of them (its body kept,
 * so that every attempt signs the same bytes), and every attempt made.
 */
export class Webhooks1796200000000 implements MigrationInterface {
  name = 'Webhooks1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "webhooks" ("account_id" character varying(200) NOT NULL, "id" uuid NOT NULL, "url" character varying(2048) NOT NULL, "event_types" text array NOT NULL, "description" text, "enabled" boolean NOT NULL, "disabled_reason" text, "secret" character varying(100) NOT NULL, "previous_secret" character varying(100), "previous_secret_expires_at" TIMESTAMP(3) WITH TIME ZONE, "seen_position" bigint NOT NULL, "lease_until" TIMESTAMP(3) WITH TIME ZONE, "lease_token" uuid, "created_by" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_2fcc13e7f99c175793b60667539" PRIMARY KEY ("account_id", "id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhooks_order" ON "webhooks"  ("account_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "webhook_deliveries" ("seq" BIGSERIAL NOT NULL, "account_id" character varying(200) NOT NULL, "webhook_id" uuid NOT NULL, "event_id" uuid NOT NULL, "event_type" character varying(64) NOT NULL, "position" bigint NOT NULL, "body" text NOT NULL, "status" character varying(16) NOT NULL, "attempts" integer NOT NULL, "next_attempt_at" TIMESTAMP(3) WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "PK_081a24068c3e7db0ca65a3c7440" PRIMARY KEY ("seq"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_deliveries_created" ON "webhook_deliveries"  ("created_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_deliveries_pending" ON "webhook_deliveries"  ("webhook_id", "position") WHERE "status" = 'pending'`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_webhook_deliveries_event" ON "webhook_deliveries"  ("webhook_id", "event_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "webhook_attempts" ("seq" BIGSERIAL NOT NULL, "account_id" character varying(200) NOT NULL, "webhook_id" uuid NOT NULL, "event_id" uuid NOT NULL, "event_type" character varying(64) NOT NULL, "attempt" integer NOT NULL, "attempted_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "succeeded" boolean NOT NULL, "status_code" integer, "latency_ms" integer NOT NULL, "error" text, "next_attempt_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_2da6449669a281d7d3ef101524c" PRIMARY KEY ("seq"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_attempts_attempted" ON "webhook_attempts"  ("attempted_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_attempts_webhook" ON "webhook_attempts"  ("account_id", "webhook_id", "seq") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_webhook_attempts_webhook"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_webhook_attempts_attempted"`);
    await queryRunner.query(`DROP TABLE "webhook_attempts"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_webhook_deliveries_event"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_webhook_deliveries_pending"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_webhook_deliveries_created"`);
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_webhooks_order"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
  }
}
