import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox of events for other services (SPEC §11): rows are written in the transaction of the
 * change they announce and published by the relay (src/events/), which marks them sent once the
 * broker confirms and deletes them after a retention.
 *
 * No foreign key to gift_card: a row is a message waiting to leave, not a record, and the check
 * would cost every money operation one more lookup.
 */
export class EventOutbox1764500000000 implements MigrationInterface {
  name = 'EventOutbox1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE event_outbox (
        id BIGINT NOT NULL AUTO_INCREMENT,
        event_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        card_id BIGINT NOT NULL,
        event_type VARCHAR(32) CHARACTER SET ascii NOT NULL,
        payload BLOB NOT NULL,
        created_at DATETIME(3) NOT NULL,
        sent_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY ix_event_outbox_unsent (sent_at, id),
        KEY ix_event_outbox_card (card_id, sent_at, id)
      ) ENGINE = InnoDB
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE event_outbox');
  }
}
