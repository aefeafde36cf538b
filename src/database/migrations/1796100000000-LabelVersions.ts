import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Label versions: a label's scale may change without changing what stored numbers mean.
 * Every existing label becomes version 1 of itself, and every evaluation and every record of
 * its history is stamped with version 1, the only scale it was ever validated against.
 * Columns are added with a default to stamp existing rows, which is then dropped: a new row
 * must always say which version it was checked against.
 */
export class LabelVersions1796100000000 implements MigrationInterface {
  name = 'LabelVersions1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "evaluation_label_versions" ("account_id" character varying(200) NOT NULL, "label_id" uuid NOT NULL, "version" integer NOT NULL, "value_type" character varying(16) NOT NULL, "min_value" double precision, "max_value" double precision, "categories" jsonb, "created_by" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "PK_2c20a857fca6b4cc7d7109eaa4a" PRIMARY KEY ("account_id", "label_id", "version"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "evaluation_label_versions" ADD CONSTRAINT "FK_cc558bc71956624122be440b829" FOREIGN KEY ("account_id", "label_id") REFERENCES "evaluation_labels"("account_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `INSERT INTO "evaluation_label_versions"
         ("account_id", "label_id", "version", "value_type", "min_value", "max_value", "categories", "created_by", "created_at")
       SELECT "account_id", "id", 1, "value_type", "min_value", "max_value", "categories", "created_by", "created_at"
         FROM "evaluation_labels"`,
    );
    await queryRunner.query(
      `ALTER TABLE "evaluation_labels" ADD "version" integer NOT NULL DEFAULT 1`,
    );
    await queryRunner.query(`ALTER TABLE "evaluation_labels" ALTER COLUMN "version" DROP DEFAULT`);
    await queryRunner.query(
      `ALTER TABLE "run_evaluations" ADD "label_version" integer NOT NULL DEFAULT 1`,
    );
    await queryRunner.query(
      `ALTER TABLE "run_evaluations" ALTER COLUMN "label_version" DROP DEFAULT`,
    );
    await queryRunner.query(`ALTER TABLE "evaluation_changes" ADD "old_label_version" integer`);
    await queryRunner.query(`ALTER TABLE "evaluation_changes" ADD "new_label_version" integer`);
    await queryRunner.query(
      `UPDATE "evaluation_changes"
          SET "old_label_version" = CASE WHEN "operation" <> 'create' THEN 1 END,
              "new_label_version" = CASE WHEN "operation" <> 'delete' THEN 1 END`,
    );
  }

  /**
   * Back to labels without versions: only possible while every stored number still has one
   * meaning, so it refuses when any label has moved past version 1.
   */
  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DO $$ BEGIN
         IF EXISTS (SELECT 1 FROM "evaluation_labels" WHERE "version" > 1) THEN
           RAISE EXCEPTION 'Labels with more than one version cannot go back to one scale: '
             'their evaluations would be read against a scale they were not checked against.';
         END IF;
       END $$`,
    );
    await queryRunner.query(`ALTER TABLE "evaluation_changes" DROP COLUMN "new_label_version"`);
    await queryRunner.query(`ALTER TABLE "evaluation_changes" DROP COLUMN "old_label_version"`);
    await queryRunner.query(`ALTER TABLE "run_evaluations" DROP COLUMN "label_version"`);
    await queryRunner.query(`ALTER TABLE "evaluation_labels" DROP COLUMN "version"`);
    await queryRunner.query(
      `ALTER TABLE "evaluation_label_versions" DROP CONSTRAINT "FK_cc558bc71956624122be440b829"`,
    );
    await queryRunner.query(`DROP TABLE "evaluation_label_versions"`);
  }
}
