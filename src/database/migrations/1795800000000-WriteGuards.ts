import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A function that fails the statement it is part of, with a given SQLSTATE, unless its
 * condition holds. A write sent as one statement ends with it: when what the write read
 * has changed since, or its Idempotency-Key is taken, nothing of the statement stays.
 */
export class WriteGuards1795800000000 implements MigrationInterface {
  name = 'WriteGuards1795800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE FUNCTION "assay_require"(ok boolean, code text, reason text) RETURNS boolean
         LANGUAGE plpgsql VOLATILE AS $$
       BEGIN
         IF ok IS NOT TRUE THEN
           RAISE EXCEPTION USING ERRCODE = code, MESSAGE = reason;
         END IF;
         RETURN true;
       END $$`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION "assay_require"(boolean, text, text)`);
  }
}
