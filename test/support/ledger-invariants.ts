import type { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * SPEC §3, checked from the raw tables: every card's balance is the sum of its ledger entries,
 * no balance is negative, and moving money between cards created or destroyed none.
 */
export async function assertLedgerInvariants(db: Connection): Promise<void> {
  const [drift] = await db.query<RowDataPacket[]>(`
    SELECT c.id, c.balance_minor, COALESCE(SUM(e.amount_minor), 0) AS ledger_sum
    FROM gift_card c LEFT JOIN ledger_entry e ON e.card_id = c.id
    GROUP BY c.id, c.balance_minor
    HAVING c.balance_minor <> ledger_sum OR c.balance_minor < 0`);
  expect(drift).toEqual([]);
  const [[totals]] = await db.query<RowDataPacket[]>(`
    SELECT
      (SELECT COALESCE(SUM(balance_minor), 0) FROM gift_card) AS balances,
      (SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entry
        WHERE entry_type IN ('ISSUE', 'RELOAD', 'REDEEM', 'REFUND')) AS external_flows,
      (SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entry
        WHERE entry_type IN ('TRANSFER_OUT', 'TRANSFER_IN', 'COMBINE_OUT', 'COMBINE_IN')) AS internal_moves`);
  expect({ balances: String(totals?.balances), internalMoves: String(totals?.internal_moves) }).toEqual({
    balances: String(totals?.external_flows),
    internalMoves: '0',
  });
}

export async function ledgerSumOf(db: Connection, giftCardId: string): Promise<bigint> {
  const [[row]] = await db.query<RowDataPacket[]>(
    `SELECT COALESCE(SUM(e.amount_minor), 0) AS total
     FROM gift_card c LEFT JOIN ledger_entry e ON e.card_id = c.id WHERE c.public_id = ?`,
    [giftCardId],
  );
  return BigInt(String(row?.total));
}

export async function entryCountOf(db: Connection, giftCardId: string): Promise<number> {
  const [[row]] = await db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM ledger_entry e JOIN gift_card c ON c.id = e.card_id WHERE c.public_id = ?`,
    [giftCardId],
  );
  return Number(row?.n);
}
