import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A purchase funds once (issue 10): the external reference of a funding entry (ISSUE, RELOAD) is
 * unique across the ledger, enforced by a unique key on a generated column, so the hot path's
 * INSERT is unchanged and the database refuses a second funding whatever idempotency key it
 * carries.
 *
 * Ledgers written before this rule may already hold a reference that funded twice. Those entries
 * stay as they are (the ledger is immutable, and the money they moved is real); all but the first
 * of each are flagged `legacy_duplicate_funding`, which keeps them out of the key, so the
 * migration cannot fail on them and an operator can find them:
 * `SELECT * FROM ledger_entry WHERE legacy_duplicate_funding`.
 */
export class UniqueFundingReference1764100000000 implements MigrationInterface {
  name = 'UniqueFundingReference1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE ledger_entry ADD COLUMN legacy_duplicate_funding BOOLEAN NOT NULL DEFAULT FALSE',
    );
    await queryRunner.query(`
      UPDATE ledger_entry e
        JOIN (
          SELECT external_ref, MIN(id) AS first_id FROM ledger_entry
          WHERE entry_type IN ('ISSUE', 'RELOAD') AND external_ref IS NOT NULL
          GROUP BY external_ref HAVING COUNT(*) > 1
        ) d ON CAST(e.external_ref AS BINARY) = CAST(d.external_ref AS BINARY)
      SET e.legacy_duplicate_funding = TRUE
      WHERE e.entry_type IN ('ISSUE', 'RELOAD') AND e.id > d.first_id
    `);
    // Compared as bytes: a reference is an opaque id, so "p" and "p " (equal under PAD SPACE) differ.
    await queryRunner.query(`
      ALTER TABLE ledger_entry
        ADD COLUMN funding_ref VARBINARY(512) AS (
          IF(entry_type IN ('ISSUE', 'RELOAD') AND NOT legacy_duplicate_funding, CAST(external_ref AS BINARY), NULL)
        ) STORED,
        ADD UNIQUE KEY uq_ledger_entry_funding_ref (funding_ref)
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE ledger_entry DROP KEY uq_ledger_entry_funding_ref, DROP COLUMN funding_ref, DROP COLUMN legacy_duplicate_funding',
    );
  }
}
