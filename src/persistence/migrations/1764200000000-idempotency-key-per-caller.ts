import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys belong to the calling service (SPEC §12): two callers sending the same key get
 * two independent records, and neither can replay or block the other's. Keys stored before this
 * migration were sent when the service knew no callers; they keep working for the anonymous caller
 * (scope ''), which is who sends them as long as no callers file is configured.
 */
export class IdempotencyKeyPerCaller1764200000000 implements MigrationInterface {
  name = 'IdempotencyKeyPerCaller1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE idempotency_record
        ADD COLUMN caller VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '' FIRST,
        DROP PRIMARY KEY,
        ADD PRIMARY KEY (caller, idempotency_key)
    `);
    // From here on every writer names the caller; a forgotten one fails instead of landing in ''.
    await queryRunner.query('ALTER TABLE idempotency_record ALTER COLUMN caller DROP DEFAULT');
  }

  /** Fails if two callers hold the same key by then: which of the two to drop is not ours to guess. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE idempotency_record
        DROP PRIMARY KEY,
        ADD PRIMARY KEY (idempotency_key),
        DROP COLUMN caller
    `);
  }
}
