import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Wrong passcodes are counted per card number hash, whether or not a card has that number
 * (issue 10): an unknown number must lock like a known one. The counts and lockouts the card rows
 * hold move here, so no lockout in force is lifted by the upgrade. Their last change stands in for
 * their last failure, which keeps a streak at least as long as before.
 *
 * gift_card.failed_passcode_attempts and passcode_locked_until are left in place and no longer
 * read or written; a later migration can drop them once no older process runs.
 */
export class PasscodeFailures1764100001000 implements MigrationInterface {
  name = 'PasscodeFailures1764100001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE passcode_failure (
        number_hash BINARY(32) NOT NULL,
        failed_attempts INT NOT NULL,
        locked_until DATETIME(3) NULL,
        last_failure_at DATETIME(3) NULL,
        PRIMARY KEY (number_hash),
        KEY ix_passcode_failure_last_failure (last_failure_at),
        CONSTRAINT chk_passcode_failure_attempts CHECK (failed_attempts >= 0)
      ) ENGINE = InnoDB
    `);
    await queryRunner.query(`
      INSERT INTO passcode_failure (number_hash, failed_attempts, locked_until, last_failure_at)
        SELECT number_hash, failed_passcode_attempts, passcode_locked_until, updated_at FROM gift_card
        WHERE failed_passcode_attempts > 0 OR passcode_locked_until IS NOT NULL
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE passcode_failure');
  }
}
