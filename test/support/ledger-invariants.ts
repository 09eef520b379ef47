import type { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * SPEC §3 and §7, checked from the raw tables: every card's balance is the sum of its ledger
 * entries, no balance is negative, moving money between cards created or destroyed none, and the
 * holds agree with the cards and the ledger (holdViolations). Each broken invariant is one line
 * naming the discrepancy, not the totals around it, so a line stays the same while later tests add
 * correct entries: a spec can tell a new break from one it already reported.
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
            WHERE entry_type IN ('ISSUE', 'RELOAD', 'REDEEM', 'REFUND', 'REVERSAL', 'ADJUSTMENT')) AS unexplained,
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
    violations.push(
      `all balances minus (issued + reloaded - redeemed + refunded ± reversed ± adjusted) is ${totals?.unexplained}`,
    );
  }
  if (String(totals?.internal_moves) !== '0') {
    violations.push(`transfer and combine entries sum to ${totals?.internal_moves}, not 0`);
  }
  return [...violations, ...(await holdViolations(db)), ...(await reversalViolations(db))];
}

/**
 * Each REVERSAL undoes one entry (the schema's unique key), in the opposite direction and by no
 * more than it moved: a reload or an issue exactly, a redemption by what its refunds had not given
 * back, so that together they never give back more than it took.
 */
async function reversalViolations(db: Connection): Promise<string[]> {
  const [reversals] = await db.query<RowDataPacket[]>(`
    SELECT v.public_id, u.entry_type, u.amount_minor AS undone, v.amount_minor AS reversed,
      (SELECT COALESCE(SUM(f.amount_minor), 0) FROM ledger_entry f
        WHERE f.refund_of_entry_id = u.id AND f.entry_type = 'REFUND') AS refunded
    FROM ledger_entry v JOIN ledger_entry u ON u.id = v.reverses_entry_id
    WHERE v.entry_type = 'REVERSAL'
    HAVING NOT (
      (entry_type IN ('RELOAD', 'ISSUE') AND reversed = -undone)
      OR (entry_type = 'REDEEM' AND reversed > 0 AND reversed + refunded = -undone))`);
  return reversals.map(
    (r) => `reversal ${r.public_id} of ${r.entry_type} ${r.undone} moved ${r.reversed} (refunded ${r.refunded})`,
  );
}

/**
 * Every card's hold tally is exactly its open holds and within its balance (the available balance
 * is never negative); a hold is captured at most once, by one REDEEM entry of what it says it
 * captured on its own card, and only a captured hold has one; every hold was placed, and a voided
 * or expired hold has that one event, as its history shows.
 */
async function holdViolations(db: Connection): Promise<string[]> {
  const [tallies] = await db.query<RowDataPacket[]>(`
    SELECT c.public_id, c.held_minor, c.open_holds, c.balance_minor, COALESCE(h.held, 0) AS open_sum
    FROM gift_card c LEFT JOIN (
      SELECT card_id, SUM(amount_minor) AS held, COUNT(*) AS n, MIN(expires_at) AS next_expiry
      FROM card_hold WHERE status = 'ACTIVE' GROUP BY card_id) h ON h.card_id = c.id
    WHERE c.held_minor <> COALESCE(h.held, 0) OR c.open_holds <> COALESCE(h.n, 0)
       OR NOT (c.next_hold_expires_at <=> h.next_expiry) OR c.held_minor > c.balance_minor`);
  const [captures] = await db.query<RowDataPacket[]>(`
    SELECT h.public_id, h.status, COUNT(e.id) AS entries
    FROM card_hold h LEFT JOIN ledger_entry e ON e.hold_id = h.id
    GROUP BY h.id, h.public_id, h.status, h.captured_minor, h.card_id
    HAVING COUNT(e.id) <> IF(h.status = 'CAPTURED', 1, 0)
        OR SUM(e.amount_minor) <> -h.captured_minor OR SUM(e.card_id <> h.card_id) > 0`);
  const [events] = await db.query<RowDataPacket[]>(`
    SELECT h.public_id, h.status
    FROM card_hold h LEFT JOIN hold_event v ON v.hold_id = h.id
    GROUP BY h.id, h.public_id, h.status, h.amount_minor
    HAVING SUM(v.event_type = 'PLACED' AND v.amount_minor = -h.amount_minor) <> 1
        OR SUM(v.event_type = h.status AND v.amount_minor = h.amount_minor) <> IF(h.status IN ('VOIDED', 'EXPIRED'), 1, 0)
        OR COUNT(v.id) <> 1 + IF(h.status IN ('VOIDED', 'EXPIRED'), 1, 0)`);
  return [
    ...tallies.map(
      (card) =>
        `card ${card.public_id}: hold tally ${card.held_minor} in ${card.open_holds} holds, but its open holds sum to ` +
        `${card.open_sum} (balance ${card.balance_minor})`,
    ),
    ...captures.map(
      (hold) => `hold ${hold.public_id} (${hold.status}) has ${hold.entries} capture entries that do not match it`,
    ),
    ...events.map((hold) => `hold ${hold.public_id} (${hold.status}): its events do not match its state`),
  ];
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
