import { randomBytes, randomUUID } from 'node:crypto';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { createDataSource, ensureDatabaseExists, openDatabase } from '../../src/persistence/data-source';
import { InitialSchema1764000000000 } from '../../src/persistence/migrations/1764000000000-initial-schema';
import { rawConnection, TEST_SERVER_URL } from '../support/test-database';

/**
 * The migrations of issue 10 on a database the previous release wrote, in a database of this
 * file's own: funding references that already funded twice, wrong-passcode counts and a lockout
 * in force on the cards, idempotency records in the old format. Nothing may be lost, and the
 * migrations must not fail on any of it.
 */
const database = `giftcard_test_migrations_${randomBytes(4).toString('hex')}`;
const url = `${TEST_SERVER_URL}/${database}`;
let db: Connection;

const DUPLICATED = 'purchase-funded-twice';
const REUSED = 'purchase-issue-then-reload';
const lockedUntil = new Date(Date.now() + 600_000);

async function insertCard(
  failedAttempts: number,
  passcodeLockedUntil: Date | null,
): Promise<{ id: number; hash: Buffer }> {
  const hash = randomBytes(32);
  const now = new Date();
  const [result] = await db.query<{ insertId: number } & RowDataPacket[]>(
    `INSERT INTO gift_card (public_id, number_hash, number_last4, passcode_hash, currency, balance_minor, status,
       failed_passcode_attempts, passcode_locked_until, created_at, updated_at)
     VALUES (?, ?, '0000', ?, 'USD', 0, 'ACTIVE', ?, ?, ?, ?)`,
    [randomUUID(), hash, randomBytes(32), failedAttempts, passcodeLockedUntil, now, now],
  );
  return { id: result.insertId, hash };
}

async function fund(cardId: number, type: 'ISSUE' | 'RELOAD', reference: string, amount: number): Promise<void> {
  await db.query(
    `INSERT INTO ledger_entry (public_id, card_id, operation_id, entry_type, amount_minor, balance_after_minor,
       currency, external_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, 'USD', ?, ?)`,
    [randomUUID(), cardId, randomUUID(), type, amount, amount, reference, new Date()],
  );
  await db.query('UPDATE gift_card SET balance_minor = balance_minor + ? WHERE id = ?', [amount, cardId]);
}

let cards: { id: number; hash: Buffer }[];

beforeAll(async () => {
  await ensureDatabaseExists(url, 5_000);
  const previousRelease = createDataSource({ url, poolSize: 1, connectTimeoutMs: 5_000 });
  previousRelease.setOptions({ migrations: [InitialSchema1764000000000] });
  await previousRelease.initialize();
  await previousRelease.runMigrations();
  await previousRelease.destroy();
  db = await rawConnection(database);
  cards = [await insertCard(0, null), await insertCard(3, null), await insertCard(0, lockedUntil)];
  await fund(cards[0]!.id, 'ISSUE', DUPLICATED, 100);
  await fund(cards[1]!.id, 'ISSUE', DUPLICATED, 200);
  await fund(cards[2]!.id, 'ISSUE', REUSED, 300);
  await fund(cards[2]!.id, 'RELOAD', REUSED, 50);
  await db.query(
    `INSERT INTO idempotency_record (idempotency_key, fingerprint, sealed_response, created_at, expires_at)
     VALUES ('old-key', ?, ?, ?, ?)`,
    [randomBytes(32), randomBytes(64), new Date(), new Date(Date.now() + 86_400_000)],
  );
  const upgraded = await openDatabase({ url, poolSize: 1, connectTimeoutMs: 5_000 });
  await upgraded.destroy();
});

afterAll(async () => {
  await db.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await db.end();
});

describe('Issue 10 migrations on the previous release’s data', () => {
  it('keeps every funding entry and flags all but the first of each reference that funded twice', async () => {
    const [rows] = await db.query<RowDataPacket[]>(
      'SELECT external_ref, entry_type, amount_minor, legacy_duplicate_funding FROM ledger_entry ORDER BY id',
    );
    expect(
      rows.map((r) => [r.external_ref, r.entry_type, String(r.amount_minor), r.legacy_duplicate_funding] as unknown[]),
    ).toEqual([
      [DUPLICATED, 'ISSUE', '100', 0],
      [DUPLICATED, 'ISSUE', '200', 1],
      [REUSED, 'ISSUE', '300', 0],
      [REUSED, 'RELOAD', '50', 1],
    ]);
  });

  it('refuses a new funding with any reference already used, flagged or not', async () => {
    for (const reference of [DUPLICATED, REUSED]) {
      await expect(fund(cards[0]!.id, 'RELOAD', reference, 1)).rejects.toThrow(/uq_ledger_entry_funding_ref/);
    }
    await fund(cards[0]!.id, 'RELOAD', 'purchase-new', 1);
  });

  it('moves the cards’ wrong-passcode counts and lockouts in force to their number hashes', async () => {
    const [rows] = await db.query<RowDataPacket[]>(
      'SELECT number_hash, failed_attempts, locked_until FROM passcode_failure ORDER BY failed_attempts',
    );
    expect(
      rows.map((r) => [Buffer.from(r.number_hash as Buffer).toString('hex'), r.failed_attempts] as unknown[]),
    ).toEqual([
      [cards[2]!.hash.toString('hex'), 0],
      [cards[1]!.hash.toString('hex'), 3],
    ]);
    expect((rows[0]!.locked_until as Date).getTime()).toBe(lockedUntil.getTime());
  });

  it('marks the idempotency records already stored as the previous format, to be replayed as such', async () => {
    const [[row]] = await db.query<RowDataPacket[]>(
      "SELECT record_format, sealed_secrets FROM idempotency_record WHERE idempotency_key = 'old-key'",
    );
    expect(row).toMatchObject({ record_format: 1, sealed_secrets: null });
  });
});
