import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Card lifecycle for operators and owners (SPEC §10).
 *
 * - gift_card.status admits BLOCKED.
 * - card_status_change keeps every block and unblock: who (the calling service), why, when, and
 *   the request; a card's current block reason is its latest row, while the card is BLOCKED.
 * - ledger_entry admits ADJUSTMENT, and balance_adjustment keeps each adjustment's reason code,
 *   note and caller beside its entry, so the ledger row keeps the shape every other entry has.
 *
 * Existing rows keep their values; the new tables start empty.
 */
export class CardLifecycle1764700000000 implements MigrationInterface {
  name = 'CardLifecycle1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE gift_card
        DROP CONSTRAINT chk_gift_card_status,
        ADD CONSTRAINT chk_gift_card_status CHECK (status IN ('ACTIVE', 'DEACTIVATED', 'COMBINED', 'BLOCKED'))
    `);
    await queryRunner.query(`
      ALTER TABLE ledger_entry
        DROP CONSTRAINT chk_ledger_entry_type,
        ADD CONSTRAINT chk_ledger_entry_type CHECK (entry_type IN (
          'ISSUE', 'RELOAD', 'REDEEM', 'REFUND',
          'TRANSFER_OUT', 'TRANSFER_IN', 'COMBINE_OUT', 'COMBINE_IN', 'REVERSAL', 'ADJUSTMENT'))
    `);
    await queryRunner.query(`
      CREATE TABLE card_status_change (
        id BIGINT NOT NULL AUTO_INCREMENT,
        card_id BIGINT NOT NULL,
        status VARCHAR(16) CHARACTER SET ascii NOT NULL,
        reason VARCHAR(256) NOT NULL,
        caller VARCHAR(64) CHARACTER SET ascii NOT NULL,
        operation_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        KEY ix_card_status_change_card (card_id, id),
        CONSTRAINT chk_card_status_change_status CHECK (status IN ('ACTIVE', 'BLOCKED')),
        CONSTRAINT fk_card_status_change_card FOREIGN KEY (card_id) REFERENCES gift_card (id)
      ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
    `);
    await queryRunner.query(`
      CREATE TABLE balance_adjustment (
        ledger_entry_id BIGINT NOT NULL,
        reason_code VARCHAR(16) CHARACTER SET ascii NOT NULL,
        note VARCHAR(512) NOT NULL,
        caller VARCHAR(64) CHARACTER SET ascii NOT NULL,
        PRIMARY KEY (ledger_entry_id),
        CONSTRAINT chk_balance_adjustment_reason CHECK (reason_code IN (
          'SYSTEM_ERROR', 'GOODWILL', 'DISPUTE', 'FRAUD', 'OTHER')),
        CONSTRAINT fk_balance_adjustment_entry FOREIGN KEY (ledger_entry_id) REFERENCES ledger_entry (id)
      ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE balance_adjustment');
    await queryRunner.query('DROP TABLE card_status_change');
    await queryRunner.query(`
      ALTER TABLE ledger_entry
        DROP CONSTRAINT chk_ledger_entry_type,
        ADD CONSTRAINT chk_ledger_entry_type CHECK (entry_type IN (
          'ISSUE', 'RELOAD', 'REDEEM', 'REFUND',
          'TRANSFER_OUT', 'TRANSFER_IN', 'COMBINE_OUT', 'COMBINE_IN', 'REVERSAL'))
    `);
    await queryRunner.query(`
      ALTER TABLE gift_card
        DROP CONSTRAINT chk_gift_card_status,
        ADD CONSTRAINT chk_gift_card_status CHECK (status IN ('ACTIVE', 'DEACTIVATED', 'COMBINED'))
    `);
  }
}
