import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The operation a key ran: the operation id every ledger entry of that request carries. It ties a
 * caller's key to what the key did, so the entries of a request can be found from its key alone
 * (an audit, a reversal by key, the fault checker), also for a transfer or combine whose entries
 * carry no caller reference. Rows written before it stay NULL; adding a nullable column at the end
 * is an instant ALTER in MariaDB and MySQL 8.
 */
export class IdempotencyOperationId1764600000000 implements MigrationInterface {
  name = 'IdempotencyOperationId1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE idempotency_record ADD COLUMN operation_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE idempotency_record DROP COLUMN operation_id');
  }
}
