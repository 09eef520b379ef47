import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Holds (SPEC §7) and the columns a card's history (SPEC §9) reads.
 *
 * - gift_card keeps a tally of its open holds (status ACTIVE): their sum, count and earliest
 *   expiry. It changes only under the card's row lock, together with the holds, so the locking
 *   read that starts every balance change sees the available balance without another query; the
 *   earliest expiry tells that read whether a hold has lapsed since. `held_minor <= balance_minor`
 *   is the database's backstop for "the available balance is never negative".
 * - card_hold is each hold's own audit: amount, what was captured, when it was created, closed
 *   (captured, voided or expired) and when it expires.
 * - hold_event records each hold being placed, voided or expiring, for the card's history, with
 *   the card's latest ledger entry at that moment (after_entry_id): written under the card's lock,
 *   that places the event exactly among the card's ledger entries.
 * - ledger_entry gains the hold a capture's REDEEM entry settles (at most one entry per hold: no
 *   hold is captured twice) and the available balance after each entry. Rows written before
 *   holds existed keep it NULL; it equals their balance after, as no hold existed then.
 *   activity_type is what the history calls the entry (a REDEEM that captured a hold reads as
 *   HOLD_CAPTURED), indexed with the card so a page of one type reads only that page's rows.
 */
export class CardHolds1764300000000 implements MigrationInterface {
  name = 'CardHolds1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE gift_card
        ADD COLUMN held_minor BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN open_holds INT NOT NULL DEFAULT 0,
        ADD COLUMN next_hold_expires_at DATETIME(3) NULL,
        ADD CONSTRAINT chk_gift_card_held_within_balance CHECK (held_minor >= 0 AND held_minor <= balance_minor),
        ADD CONSTRAINT chk_gift_card_hold_tally CHECK (
          open_holds >= 0 AND (open_holds = 0) = (held_minor = 0) AND (open_holds = 0) = (next_hold_expires_at IS NULL))
    `);
    await queryRunner.query(`
      CREATE TABLE card_hold (
        id BIGINT NOT NULL AUTO_INCREMENT,
        public_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        card_id BIGINT NOT NULL,
        amount_minor BIGINT NOT NULL,
        currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        status VARCHAR(16) CHARACTER SET ascii NOT NULL,
        order_id VARCHAR(128) NULL,
        captured_minor BIGINT NULL,
        created_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        closed_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_card_hold_public_id (public_id),
        KEY ix_card_hold_card_open (card_id, status, expires_at),
        KEY ix_card_hold_lapsing (status, expires_at),
        CONSTRAINT chk_card_hold_amount CHECK (amount_minor > 0),
        CONSTRAINT chk_card_hold_status CHECK (status IN ('ACTIVE', 'CAPTURED', 'VOIDED', 'EXPIRED')),
        CONSTRAINT chk_card_hold_captured CHECK (
          (status = 'CAPTURED') = (captured_minor IS NOT NULL)
          AND (captured_minor IS NULL OR (captured_minor > 0 AND captured_minor <= amount_minor))),
        CONSTRAINT chk_card_hold_closed CHECK ((status = 'ACTIVE') = (closed_at IS NULL)),
        CONSTRAINT chk_card_hold_expiry CHECK (expires_at > created_at),
        CONSTRAINT fk_card_hold_card FOREIGN KEY (card_id) REFERENCES gift_card (id)
      ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
    `);
    await queryRunner.query(`
      CREATE TABLE hold_event (
        id BIGINT NOT NULL AUTO_INCREMENT,
        public_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        hold_id BIGINT NOT NULL,
        card_id BIGINT NOT NULL,
        event_type VARCHAR(16) CHARACTER SET ascii NOT NULL,
        amount_minor BIGINT NOT NULL,
        balance_minor BIGINT NOT NULL,
        available_after_minor BIGINT NOT NULL,
        after_entry_id BIGINT NOT NULL,
        occurred_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_hold_event_public_id (public_id),
        UNIQUE KEY uq_hold_event_once (hold_id, event_type),
        KEY ix_hold_event_card (card_id, after_entry_id, id),
        KEY ix_hold_event_card_type (card_id, event_type, after_entry_id, id),
        CONSTRAINT chk_hold_event_type CHECK (event_type IN ('PLACED', 'VOIDED', 'EXPIRED')),
        CONSTRAINT chk_hold_event_amount CHECK (amount_minor <> 0),
        CONSTRAINT chk_hold_event_available CHECK (
          available_after_minor >= 0 AND available_after_minor <= balance_minor),
        CONSTRAINT fk_hold_event_hold FOREIGN KEY (hold_id) REFERENCES card_hold (id),
        CONSTRAINT fk_hold_event_card FOREIGN KEY (card_id) REFERENCES gift_card (id)
      ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
    `);
    await queryRunner.query(`
      ALTER TABLE ledger_entry
        ADD COLUMN available_after_minor BIGINT NULL,
        ADD COLUMN hold_id BIGINT NULL,
        ADD COLUMN activity_type VARCHAR(16) CHARACTER SET ascii
          AS (IF(hold_id IS NULL, entry_type, 'HOLD_CAPTURED')) VIRTUAL,
        ADD UNIQUE KEY uq_ledger_entry_hold (hold_id),
        ADD KEY ix_ledger_entry_card_activity (card_id, activity_type, id),
        ADD CONSTRAINT chk_ledger_entry_available_after CHECK (
          available_after_minor IS NULL OR (available_after_minor >= 0 AND available_after_minor <= balance_after_minor)),
        ADD CONSTRAINT chk_ledger_entry_hold_capture CHECK (hold_id IS NULL OR entry_type = 'REDEEM'),
        ADD CONSTRAINT fk_ledger_entry_hold FOREIGN KEY (hold_id) REFERENCES card_hold (id)
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE ledger_entry
        DROP FOREIGN KEY fk_ledger_entry_hold,
        DROP CONSTRAINT chk_ledger_entry_hold_capture,
        DROP CONSTRAINT chk_ledger_entry_available_after,
        DROP KEY ix_ledger_entry_card_activity,
        DROP KEY uq_ledger_entry_hold,
        DROP COLUMN activity_type,
        DROP COLUMN hold_id,
        DROP COLUMN available_after_minor
    `);
    await queryRunner.query('DROP TABLE hold_event');
    await queryRunner.query('DROP TABLE card_hold');
    await queryRunner.query(`
      ALTER TABLE gift_card
        DROP CONSTRAINT chk_gift_card_hold_tally,
        DROP CONSTRAINT chk_gift_card_held_within_balance,
        DROP COLUMN next_hold_expires_at,
        DROP COLUMN open_holds,
        DROP COLUMN held_minor
    `);
  }
}
