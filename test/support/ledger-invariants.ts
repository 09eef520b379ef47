import type { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * SPEC §3, checked from the raw tables: every card's balance is the sum of its ledger entries,
 * no balance is negative, and moving money between cards created or destroyed none. Each broken
 * invariant is one line naming the discrepancy, not the totals around it, so a line stays the same
 * while later tests add correct entries: a spec can tell a new break from one it already reported.
 */
export async function ledgerViolations(db: Connection): Promise<string[]> {
  const [cards] = await db.query<RowDataPacket[]>(`
    SELECT c.public_id, c.balance_minor, c.balance_minor - COALESCE(SUM(e.amount_minor), 0) AS drift
    FROM gift_card c LEFT JOIN ledger_entry e ON e.card_id = c.id
    GROUP BY c.id, c.public_id, c.balance_minor
    HAVING drift <> 0 OR c.balance_minor < 0`);
  const [[totals]] = await db.query<RowDataPacket[]>(`
    SELECT
      (SELECT COALESCE(SUM(balance_minor), 0) FROM gift_card)
        - (SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entry
            WHERE entry_type IN ('ISSUE', 'RELOAD', 'REDEEM', 'REFUND')) AS unexplained,
      (SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entry
        WHERE entry_type IN ('TRANSFER_OUT', 'TRANSFER_IN', 'COMBINE_OUT', 'COMBINE_IN')) AS internal_moves`);
  const violations: string[] = [];
  for (const card of cards) {
    if (String(card.drift) !== '0') {
      violations.push(`card ${card.public_id}: balance minus the sum of its ledger entries is ${card.drift}`);
    }
    if (BigInt(String(card.balance_minor)) < 0n) {
      violations.push(`card ${card.public_id}: balance ${card.balance_minor} is negative`);
    }
  }
  if (String(totals?.unexplained) !== '0') {
    violations.push(`all balances minus (issued + reloaded - redeemed + refunded) is ${totals?.unexplained}`);
  }
  if (String(totals?.internal_moves) !== '0') {
    violations.push(`transfer and combine entries sum to ${totals?.internal_moves}, not 0`);
  }
  return violations;
}

export async function assertLedgerInvariants(db: Connection): Promise<void> {
  expect(await ledgerViolations(db)).toEqual([]);
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
