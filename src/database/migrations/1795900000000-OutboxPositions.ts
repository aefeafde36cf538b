import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cheaper events to write. Positions are drawn from a sequence, so that the sequencer gives
 * them in one statement (it read the highest position so far in a statement of its own,
 * in a transaction). The indexes over positions leave out events not yet positioned: an
 * event then enters three indexes when it is written rather than six.
 */
export class OutboxPositions1795900000000 implements MigrationInterface {
  name = 'OutboxPositions1795900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE SEQUENCE "outbox_events_position_seq" OWNED BY "outbox_events"."position"`,
    );
    await queryRunner.query(
      `SELECT setval('outbox_events_position_seq', coalesce(max(position), 0) + 1, false)
         FROM outbox_events`,
    );
    await this.indexes(queryRunner, 'WHERE "position" IS NOT NULL', 'AND "position" IS NOT NULL');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await this.indexes(queryRunner, '', '');
    await queryRunner.query(`DROP SEQUENCE "outbox_events_position_seq"`);
  }

  private async indexes(queryRunner: QueryRunner, positioned: string, andPositioned: string) {
    await queryRunner.query(`DROP INDEX "public"."UQ_outbox_events_position"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_outbox_events_account_position"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_outbox_events_unsent"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_outbox_events_position" ON "outbox_events" ("position") ${positioned}`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_outbox_events_account_position" ON "outbox_events" ("account_id", "position") ${positioned}`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_outbox_events_unsent" ON "outbox_events" ("position") WHERE "sent_at" IS NULL ${andPositioned}`,
    );
  }
}
