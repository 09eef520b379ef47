import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cards, their ledger, idempotency claims and wallet access. Constraints are the backstop behind
 * the code: a balance can never go negative, a number hash and a public id are unique, a card has
 * at most one owner and a user at most one preferred card.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE gift_card (
        id BIGINT NOT NULL AUTO_INCREMENT,
        public_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        number_hash BINARY(32) NOT NULL,
        number_last4 CHAR(4) CHARACTER SET ascii NOT NULL,
        passcode_hash BINARY(32) NOT NULL,
        currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        balance_minor BIGINT NOT NULL,
        status VARCHAR(16) CHARACTER SET ascii NOT NULL,
        expires_at DATETIME(3) NULL,
        failed_passcode_attempts INT NOT NULL DEFAULT 0,
        passcode_locked_until DATETIME(3) NULL,
        successor_card_id BIGINT NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_gift_card_public_id (public_id),
        UNIQUE KEY uq_gift_card_number_hash (number_hash),
        CONSTRAINT chk_gift_card_balance_non_negative CHECK (balance_minor >= 0),
        CONSTRAINT chk_gift_card_status CHECK (status IN ('ACTIVE', 'DEACTIVATED', 'COMBINED')),
        CONSTRAINT chk_gift_card_attempts CHECK (failed_passcode_attempts >= 0),
        CONSTRAINT fk_gift_card_successor FOREIGN KEY (successor_card_id) REFERENCES gift_card (id)
      ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
    `);
    await queryRunner.query(`
      CREATE TABLE ledger_entry (
        id BIGINT NOT NULL AUTO_INCREMENT,
        public_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        card_id BIGINT NOT NULL,
        operation_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        entry_type VARCHAR(16) CHARACTER SET ascii NOT NULL,
        amount_minor BIGINT NOT NULL,
        balance_after_minor BIGINT NOT NULL,
        currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        external_ref VARCHAR(128) NULL,
        refund_of_entry_id BIGINT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_ledger_entry_public_id (public_id),
        KEY ix_ledger_entry_card (card_id, id),
        KEY ix_ledger_entry_operation (operation_id),
        KEY ix_ledger_entry_refund_of (refund_of_entry_id),
        CONSTRAINT chk_ledger_entry_amount_nonzero CHECK (amount_minor <> 0),
        CONSTRAINT chk_ledger_entry_balance_after CHECK (balance_after_minor >= 0),
        CONSTRAINT chk_ledger_entry_type CHECK (entry_type IN (
          'ISSUE', 'RELOAD', 'REDEEM', 'REFUND',
          'TRANSFER_OUT', 'TRANSFER_IN', 'COMBINE_OUT', 'COMBINE_IN')),
        CONSTRAINT fk_ledger_entry_card FOREIGN KEY (card_id) REFERENCES gift_card (id),
        CONSTRAINT fk_ledger_entry_refund_of FOREIGN KEY (refund_of_entry_id) REFERENCES ledger_entry (id)
      ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
    `);
    await queryRunner.query(`
      CREATE TABLE idempotency_record (
        idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        fingerprint BINARY(32) NOT NULL,
        sealed_response MEDIUMBLOB NULL,
        created_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        PRIMARY KEY (idempotency_key),
        KEY ix_idempotency_record_expires (expires_at)
      ) ENGINE = InnoDB
    `);
    await queryRunner.query(`
      CREATE TABLE card_access (
        card_id BIGINT NOT NULL,
        user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        role VARCHAR(8) CHARACTER SET ascii NOT NULL,
        preferred BOOLEAN NOT NULL DEFAULT FALSE,
        owner_card_id BIGINT AS (IF(role = 'OWNER', card_id, NULL)) STORED,
        preferred_user_id VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin
          AS (IF(preferred, user_id, NULL)) STORED,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (card_id, user_id),
        UNIQUE KEY uq_card_access_one_owner (owner_card_id),
        UNIQUE KEY uq_card_access_one_preferred (preferred_user_id),
        KEY ix_card_access_user (user_id, card_id),
        CONSTRAINT chk_card_access_role CHECK (role IN ('OWNER', 'SHARED')),
        CONSTRAINT fk_card_access_card FOREIGN KEY (card_id) REFERENCES gift_card (id)
      ) ENGINE = InnoDB
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE card_access');
    await queryRunner.query('DROP TABLE idempotency_record');
    await queryRunner.query('DROP TABLE ledger_entry');
    await queryRunner.query('DROP TABLE gift_card');
  }
}
