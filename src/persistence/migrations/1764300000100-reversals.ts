import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reversal of an operation whose answer never came (SPEC §8).
 *
 * - idempotency_record learns which RPC claimed its key (rpc), and keeps the reversal's answer
 *   (sealed, like the first answer) and when it was reversed. A record reversed before any
 *   operation claimed its key (a tombstone) has no first answer: a late original is refused.
 *   Records written before this migration name no RPC; they cannot be reversed.
 * - ledger_entry gains the entry a REVERSAL undoes; unique, so no entry is undone twice.
 */
export class Reversals1764300000100 implements MigrationInterface {
  name = 'Reversals1764300000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE idempotency_record
        ADD COLUMN rpc VARCHAR(32) CHARACTER SET ascii NULL,
        ADD COLUMN sealed_reversal MEDIUMBLOB NULL,
        ADD COLUMN reversed_at DATETIME(3) NULL,
        ADD CONSTRAINT chk_idempotency_record_reversal CHECK ((sealed_reversal IS NULL) = (reversed_at IS NULL))
    `);
    await queryRunner.query(`
      ALTER TABLE ledger_entry
        ADD COLUMN reverses_entry_id BIGINT NULL,
        ADD UNIQUE KEY uq_ledger_entry_reverses (reverses_entry_id),
        DROP CONSTRAINT chk_ledger_entry_type,
        ADD CONSTRAINT chk_ledger_entry_type CHECK (entry_type IN (
          'ISSUE', 'RELOAD', 'REDEEM', 'REFUND',
          'TRANSFER_OUT', 'TRANSFER_IN', 'COMBINE_OUT', 'COMBINE_IN', 'REVERSAL')),
        ADD CONSTRAINT chk_ledger_entry_reversal CHECK ((entry_type = 'REVERSAL') = (reverses_entry_id IS NOT NULL)),
        ADD CONSTRAINT fk_ledger_entry_reverses FOREIGN KEY (reverses_entry_id) REFERENCES ledger_entry (id)
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE ledger_entry
        DROP FOREIGN KEY fk_ledger_entry_reverses,
        DROP CONSTRAINT chk_ledger_entry_reversal,
        DROP CONSTRAINT chk_ledger_entry_type,
        ADD CONSTRAINT chk_ledger_entry_type CHECK (entry_type IN (
          'ISSUE', 'RELOAD', 'REDEEM', 'REFUND', 'TRANSFER_OUT', 'TRANSFER_IN', 'COMBINE_OUT', 'COMBINE_IN')),
        DROP KEY uq_ledger_entry_reverses,
        DROP COLUMN reverses_entry_id
    `);
    await queryRunner.query(`
      ALTER TABLE idempotency_record
        DROP CONSTRAINT chk_idempotency_record_reversal,
        DROP COLUMN reversed_at,
        DROP COLUMN sealed_reversal,
        DROP COLUMN rpc
    `);
  }
}
