import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Labels say which way is better (existing ones: higher, except categorical ones), and
 * evaluations get the keyset indexes that statistics and exports read by: per label in
 * time order (which also serves what the old per-label index did), and per account.
 */
export class StatsIndexesAndDirection1795700000000 implements MigrationInterface {
  name = 'StatsIndexesAndDirection1795700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_run_evaluations_label"`);
    await queryRunner.query(`ALTER TABLE "evaluation_labels" ADD "higher_is_better" boolean`);
    await queryRunner.query(
      `UPDATE "evaluation_labels" SET "higher_is_better" = true WHERE "value_type" <> 'categorical'`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_run_evaluations_order" ON "run_evaluations"  ("account_id", "created_at", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_run_evaluations_label_order" ON "run_evaluations"  ("account_id", "evaluation_label_id", "created_at", "id") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_run_evaluations_label_order"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_run_evaluations_order"`);
    await queryRunner.query(`ALTER TABLE "evaluation_labels" DROP COLUMN "higher_is_better"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_run_evaluations_label" ON "run_evaluations" ("account_id", "evaluation_label_id") `,
    );
  }
}
