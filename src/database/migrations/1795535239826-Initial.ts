import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795535239826 implements MigrationInterface {
  name = 'Initial1795535239826';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "evaluation_labels" ("account_id" character varying(200) NOT NULL, "id" uuid NOT NULL, "name" character varying(200) NOT NULL, "description" text, "value_type" character varying(16) NOT NULL, "min_value" double precision, "max_value" double precision, "categories" jsonb, "archived_at" TIMESTAMP(3) WITH TIME ZONE, "created_by" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_db9a651d4baffe62494b4bc4eb8" PRIMARY KEY ("account_id", "id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_evaluation_labels_live_name" ON "evaluation_labels"  ("account_id", "name") WHERE "archived_at" IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_evaluation_labels_order" ON "evaluation_labels"  ("account_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "evaluation_changes" ("seq" BIGSERIAL NOT NULL, "account_id" character varying(200) NOT NULL, "run_id" uuid NOT NULL, "evaluation_id" uuid NOT NULL, "operation" character varying(8) NOT NULL, "old_value" double precision, "new_value" double precision, "changed_by" text, "changed_by_evaluator_id" uuid, "changed_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "PK_c3b4c48691cd7d213b8ebe283b9" PRIMARY KEY ("seq"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_evaluation_changes_evaluation" ON "evaluation_changes"  ("account_id", "evaluation_id", "seq") `,
    );
    await queryRunner.query(
      `CREATE TABLE "runs" ("account_id" character varying(200) NOT NULL, "id" uuid NOT NULL, "name" text, "workflow" text, "status" character varying(16), "inputs" jsonb, "outputs" jsonb, "metadata" jsonb, "created_by" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP(3) WITH TIME ZONE, "completed_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "PK_d577c3e6749f0235764618f5674" PRIMARY KEY ("account_id", "id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_runs_order" ON "runs"  ("account_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "run_evaluations" ("id" uuid NOT NULL, "account_id" character varying(200) NOT NULL, "run_id" uuid NOT NULL, "evaluation_label_id" uuid NOT NULL, "output_name" text, "field_path" text, "value" double precision NOT NULL, "created_by" text, "created_by_evaluator_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "updated_by" text, "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "PK_fbcd9dd689f9022997b202e841f" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_run_evaluations_label" ON "run_evaluations"  ("account_id", "evaluation_label_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_run_evaluations_run_order" ON "run_evaluations"  ("account_id", "run_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "run_evaluations" ADD CONSTRAINT "FK_ce0a7e72b8168813b09485a3d74" FOREIGN KEY ("account_id", "run_id") REFERENCES "runs"("account_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "run_evaluations" ADD CONSTRAINT "FK_c6741aa42ebc1b467b427d6a18a" FOREIGN KEY ("account_id", "evaluation_label_id") REFERENCES "evaluation_labels"("account_id","id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "run_evaluations" DROP CONSTRAINT "FK_c6741aa42ebc1b467b427d6a18a"`,
    );
    await queryRunner.query(
      `ALTER TABLE "run_evaluations" DROP CONSTRAINT "FK_ce0a7e72b8168813b09485a3d74"`,
    );
    await queryRunner.query(`DROP INDEX "public"."IDX_run_evaluations_run_order"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_run_evaluations_label"`);
    await queryRunner.query(`DROP TABLE "run_evaluations"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_runs_order"`);
    await queryRunner.query(`DROP TABLE "runs"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_evaluation_changes_evaluation"`);
    await queryRunner.query(`DROP TABLE "evaluation_changes"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_evaluation_labels_order"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_evaluation_labels_live_name"`);
    await queryRunner.query(`DROP TABLE "evaluation_labels"`);
  }
}
