import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency records learn which format wrote them (issue 10). Format 2 fingerprints a request
 * without its passcode and seals a new card's number and passcode apart from the rest of the
 * reply, with the time after which they are no longer replayed and are erased. Every record
 * already stored is format 1 (its fingerprint covers the passcode, its reply is whole): still
 * replayed, by the format it was written in, until its retention ends. The default stays 1, so
 * a record written by an older process during a rollout is read as what it is.
 */
export class IdempotencyRecordFormat1764100002000 implements MigrationInterface {
  name = 'IdempotencyRecordFormat1764100002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE idempotency_record
        ADD COLUMN record_format TINYINT NOT NULL DEFAULT 1 AFTER idempotency_key,
        ADD COLUMN sealed_secrets MEDIUMBLOB NULL AFTER sealed_response,
        ADD COLUMN secrets_expire_at DATETIME(3) NULL AFTER sealed_secrets,
        ADD KEY ix_idempotency_record_secrets_expire (secrets_expire_at),
        ADD CONSTRAINT chk_idempotency_record_format CHECK (record_format IN (1, 2))
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE idempotency_record
        DROP CONSTRAINT chk_idempotency_record_format,
        DROP KEY ix_idempotency_record_secrets_expire,
        DROP COLUMN secrets_expire_at,
        DROP COLUMN sealed_secrets,
        DROP COLUMN record_format
    `);
  }
}
