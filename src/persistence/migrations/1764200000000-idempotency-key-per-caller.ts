import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys belong to the calling service (SPEC §12): two callers sending the same key get
 * two independent records, and neither can replay or block the other's. Keys stored before this
 * migration were sent when the service knew no callers; they keep working for the anonymous caller
 * (scope ''), which is who sends them as long as no callers file is configured. The default stays
 * '': during a rolling upgrade a process of the previous release, which knows no callers, still
 * writes keys without naming one, and they are the anonymous caller's, as that process serves.
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
