import type { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * States a test needs that the API cannot reach (yet), written straight into the tables. Each
 * says why it exists; prefer the API whenever it can do the same.
 */

/** Moves a card's expiry into the past: issue refuses a past expiry, and tests do not wait. */
export async function expireDirectly(db: Connection, giftCardId: string): Promise<void> {
  await db.query(`UPDATE gift_card SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 DAY WHERE public_id = ?`, [
    giftCardId,
  ]);
}

/**
 * Closes a card as an operator would (SPEC §1: DEACTIVATED, closed by an operator): no successor,
 * unlike the source of a deleting transfer. No RPC closes a card yet.
 */
export async function closeDirectly(db: Connection, giftCardId: string): Promise<void> {
  await db.query(`UPDATE gift_card SET status = 'DEACTIVATED' WHERE public_id = ?`, [giftCardId]);
}

/** Who may use the card by its id, as the table says: [userId, role] pairs. */
export async function accessOf(db: Connection, giftCardId: string): Promise<[string, string][]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT a.user_id, a.role FROM card_access a JOIN gift_card c ON c.id = a.card_id
     WHERE c.public_id = ? ORDER BY a.user_id`,
    [giftCardId],
  );
  return rows.map((row) => [String(row.user_id), String(row.role)]);
}

/** The ledger entries of one card, oldest first. */
export async function entriesOf(
  db: Connection,
  giftCardId: string,
): Promise<{ publicId: string; type: string; amount: bigint; operationId: string }[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT e.public_id, e.entry_type, e.amount_minor, e.operation_id
     FROM ledger_entry e JOIN gift_card c ON c.id = e.card_id WHERE c.public_id = ? ORDER BY e.id`,
    [giftCardId],
  );
  return rows.map((row) => ({
    publicId: String(row.public_id),
    type: String(row.entry_type),
    amount: BigInt(String(row.amount_minor)),
    operationId: String(row.operation_id),
  }));
}

/** The public id of the user's preferred card, or null. */
export async function preferredCardOf(db: Connection, userId: string): Promise<string | null> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT c.public_id FROM card_access a JOIN gift_card c ON c.id = a.card_id
     WHERE a.user_id = ? AND a.preferred`,
    [userId],
  );
  return rows.length === 0 ? null : String(rows[0]?.public_id);
}
