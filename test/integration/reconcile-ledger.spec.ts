import { status } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { AdjustmentReason } from '../../gen/giftcard/v1/card_lifecycle';
import { DiscrepancyKind } from '../../gen/giftcard/v1/reconciliation';
import { reconcileLedger } from '../../src/application/reconcile-ledger';
import { TypeOrmLedgerSnapshots } from '../../src/persistence/ledger-snapshot.repository';
import { credentialsOf, issueCard, newKey, newPurchase } from '../support/builders';
import { closeDirectly, expireDirectly } from '../support/direct-rows';
import { authorize } from '../support/holds';
import { assertLedgerInvariants } from '../support/ledger-invariants';
import { rpcError } from '../support/rpc-error';
import { rawConnection, TEST_SERVER_URL, testDatabaseName } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';

/**
 * A database of its own, not the run's shared one: the figures are the whole ledger's, so they can
 * be stated exactly only on a ledger this file alone writes.
 */
const DATABASE = `${testDatabaseName()}_reconcile`;
let svc: TestService;
let db: Connection;

beforeAll(async () => {
  svc = await startTestService({ DATABASE_URL: `${TEST_SERVER_URL}/${DATABASE}`, MAX_BALANCE_MINOR: '100000' });
  db = await rawConnection(DATABASE);
});

afterAll(async () => {
  await db.query(`DROP DATABASE IF EXISTS \`${DATABASE}\``);
  await db.end();
  await svc.stop();
});

// Every test puts back what it broke: the next one starts from a sound ledger again.
afterEach(async () => {
  await assertLedgerInvariants(db);
});

const reconcile = (maxDiscrepancies = 0) => svc.api.reconcileLedger({ maxDiscrepancies });

async function entryIdsOf(giftCardId: string): Promise<string[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT e.public_id FROM ledger_entry e JOIN gift_card c ON c.id = e.card_id WHERE c.public_id = ? ORDER BY e.id`,
    [giftCardId],
  );
  return rows.map((row) => String(row.public_id));
}

/** Deletes a ledger row behind the service's back, and returns how to put it back as it was. */
async function deleteEntry(transactionId: string): Promise<() => Promise<void>> {
  const [columns] = await db.query<RowDataPacket[]>(
    `SELECT COLUMN_NAME FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'ledger_entry' AND EXTRA NOT LIKE '%GENERATED%'`,
    [DATABASE],
  );
  const names = columns.map((c) => `\`${String(c.COLUMN_NAME)}\``).join(', ');
  await db.query('CREATE TEMPORARY TABLE deleted_entry AS SELECT * FROM ledger_entry WHERE public_id = ?', [
    transactionId,
  ]);
  await db.query('DELETE FROM ledger_entry WHERE public_id = ?', [transactionId]);
  return async () => {
    await db.query(`INSERT INTO ledger_entry (${names}) SELECT ${names} FROM deleted_entry`);
    await db.query('DROP TEMPORARY TABLE deleted_entry');
  };
}

describe('ReconcileLedger', () => {
  it('reports per currency the liability, active holds, breakage candidates and every flow; a sound ledger has no discrepancy', async () => {
    const spent = await issueCard(svc.api, { amount: 5_000n });
    await svc.api.reload({
      idempotencyKey: newKey(),
      ...credentialsOf(spent),
      amount: 1_000n,
      currency: 'USD',
      sourceTransactionId: newPurchase(),
    });
    const redemption = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(spent),
      amount: 2_000n,
      currency: 'USD',
    });
    await svc.api.refund({
      idempotencyKey: newKey(),
      transactionId: redemption.transactionId,
      amount: 500n,
      currency: 'USD',
    });
    await authorize(svc.api, spent, 700n);
    await svc.api.balanceTransfer({ idempotencyKey: newKey(), ...credentialsOf(spent), amount: 300n, currency: 'USD' });
    const expired = await issueCard(svc.api, { amount: 1_100n });
    await expireDirectly(db, expired.giftCardId);
    const closed = await issueCard(svc.api, { amount: 1_300n });
    await closeDirectly(db, closed.giftCardId);
    const frozen = await issueCard(svc.api, { amount: 900n });
    await svc.api.adjustBalance({
      idempotencyKey: newKey(),
      giftCardId: frozen.giftCardId,
      amount: -100n,
      currency: 'USD',
      reason: AdjustmentReason.ADJUSTMENT_REASON_SYSTEM_ERROR,
      note: 'charged twice at the till',
    });
    await svc.api.blockCard({ giftCardId: frozen.giftCardId, reason: 'reported stolen' });
    await issueCard(svc.api, { amount: 3_000n, currency: 'EUR' });

    const report = await reconcile();

    expect(report.discrepancies).toEqual([]);
    expect(report.discrepancyCount).toBe(0n);
    expect(report.cardCount).toBe(6n);
    expect(report.entryCount).toBe(11n);
    expect(report.currencyTotals).toEqual([
      expect.objectContaining({
        currency: 'EUR',
        cardCount: 1n,
        outstandingAmount: 3_000n,
        issuedAmount: 3_000n,
      }),
      {
        currency: 'USD',
        cardCount: 5n,
        entryCount: 10n,
        // 5,000 + 1,000 - 2,000 + 500 on the spent card (300 of it moved to a new card), 1,100, 1,300
        // and the blocked card's 900 - 100.
        outstandingAmount: 7_700n,
        activeHoldsAmount: 700n,
        expiredAmount: 1_100n,
        deactivatedAmount: 1_300n,
        blockedAmount: 800n,
        issuedAmount: 8_300n,
        reloadedAmount: 1_000n,
        adjustedAmount: -100n,
        redeemedAmount: 2_000n,
        refundedAmount: 500n,
        reversedAmount: 0n,
        movedInAmount: 300n,
        movedOutAmount: 300n,
      },
    ]);
  });

  it("names the card and the size of the difference when a balance was changed behind the service's back", async () => {
    const card = await issueCard(svc.api, { amount: 2_000n });
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 400n, currency: 'USD' });
    await db.query('UPDATE gift_card SET balance_minor = balance_minor + 250 WHERE public_id = ?', [card.giftCardId]);
    try {
      const report = await reconcile();
      expect(report.discrepancyCount).toBe(2n);
      expect(report.discrepancies).toEqual([
        expect.objectContaining({
          kind: DiscrepancyKind.DISCREPANCY_KIND_LIABILITY_NOT_EXPLAINED,
          giftCardId: '',
          currency: 'USD',
          difference: 250n,
        }),
        expect.objectContaining({
          kind: DiscrepancyKind.DISCREPANCY_KIND_BALANCE_NOT_ENTRY_SUM,
          giftCardId: card.giftCardId,
          currency: 'USD',
          expectedAmount: 1_600n,
          actualAmount: 1_850n,
          difference: 250n,
          // Its entries agree with one another: the row changed after the last of them.
          transactionIds: (await entryIdsOf(card.giftCardId)).slice(-1),
        }),
      ]);
    } finally {
      await db.query('UPDATE gift_card SET balance_minor = balance_minor - 250 WHERE public_id = ?', [card.giftCardId]);
    }
    expect((await reconcile()).discrepancyCount).toBe(0n);
  });

  it('names the card, the entries either side of the gap and the size of the difference when an entry was deleted', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const reload = (amount: bigint) =>
      svc.api.reload({
        idempotencyKey: newKey(),
        ...credentialsOf(card),
        amount,
        currency: 'USD',
        sourceTransactionId: newPurchase(),
      });
    const deleted = await reload(300n);
    const after = await reload(200n);
    const restore = await deleteEntry(deleted.transactionId);
    try {
      const report = await reconcile();
      expect(report.discrepancies).toEqual([
        expect.objectContaining({
          kind: DiscrepancyKind.DISCREPANCY_KIND_LIABILITY_NOT_EXPLAINED,
          difference: 300n,
        }),
        expect.objectContaining({
          kind: DiscrepancyKind.DISCREPANCY_KIND_BALANCE_NOT_ENTRY_SUM,
          giftCardId: card.giftCardId,
          expectedAmount: 1_200n,
          actualAmount: 1_500n,
          difference: 300n,
          transactionIds: [card.transactionId, after.transactionId],
        }),
      ]);
    } finally {
      await restore();
    }
    expect((await reconcile()).discrepancyCount).toBe(0n);
  });

  it('finds a balance above the maximum and holds beyond the balance, and lists only as many as asked while counting all', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    await authorize(svc.api, card, 600n);
    // The schema's CHECK keeps held_minor within the balance; with it suspended, a restore from a
    // bad backup could still bring such a row back, and this is what the reconciliation says of it.
    await db.query('SET SESSION check_constraint_checks = OFF');
    const full = await issueCard(svc.api, { amount: 100_000n });
    await db.query('UPDATE gift_card SET balance_minor = 500, held_minor = 600 WHERE public_id = ?', [card.giftCardId]);
    await db.query('UPDATE gift_card SET balance_minor = 100001 WHERE public_id = ?', [full.giftCardId]);
    try {
      const all = await reconcile(1_000);
      expect(all.discrepancies.map((d) => [d.kind, d.difference])).toEqual([
        [DiscrepancyKind.DISCREPANCY_KIND_LIABILITY_NOT_EXPLAINED, -499n],
        [DiscrepancyKind.DISCREPANCY_KIND_BALANCE_NOT_ENTRY_SUM, -500n],
        [DiscrepancyKind.DISCREPANCY_KIND_HOLDS_EXCEED_BALANCE, 100n],
        [DiscrepancyKind.DISCREPANCY_KIND_BALANCE_NOT_ENTRY_SUM, 1n],
        [DiscrepancyKind.DISCREPANCY_KIND_BALANCE_ABOVE_MAXIMUM, 1n],
      ]);
      const two = await reconcile(2);
      expect(two.discrepancies).toEqual(all.discrepancies.slice(0, 2));
      expect(two.discrepancyCount).toBe(5n);
    } finally {
      await db.query(
        `UPDATE gift_card c SET balance_minor = (SELECT SUM(e.amount_minor) FROM ledger_entry e WHERE e.card_id = c.id)
         WHERE c.public_id IN (?, ?)`,
        [card.giftCardId, full.giftCardId],
      );
      await db.query('SET SESSION check_constraint_checks = ON');
    }
  });

  it('refuses to list more than 1000 discrepancies with INVALID_ARGUMENT', async () => {
    expect(await rpcError(reconcile(1_001))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      fieldViolations: [expect.objectContaining({ field: 'maxDiscrepancies' })],
    });
  });
});

describe('The ledger snapshot a reconciliation reads', () => {
  it('is read a page of cards at a time, each page after the last, and pages add up to the whole ledger', async () => {
    const context = {
      ledgerSnapshots: new TypeOrmLedgerSnapshots(svc.service.dataSource),
      clock: svc.service.app.clock,
      limits: svc.service.app.limits,
    };
    const progress: number[] = [];
    const whole = await reconcileLedger(context, { maxListed: 10 });
    const paged = await reconcileLedger(context, {
      maxListed: 10,
      cardsPerPage: 2,
      onProgress: ({ cards }) => progress.push(cards),
    });
    expect(whole.cards).toBeGreaterThan(4);
    expect({ ...paged, asOf: null }).toEqual({ ...whole, asOf: null });
    expect(progress).toEqual(
      Array.from({ length: Math.ceil(whole.cards / 2) }, (_, i) => Math.min(2 * (i + 1), whole.cards)),
    );
  });

  it('is one consistent snapshot that locks nothing: a reload committed while it is open is not in it', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const snapshots = new TypeOrmLedgerSnapshots(svc.service.dataSource);
    const seen = await snapshots.read(async (snapshot) => {
      // Completes while the snapshot is open: nothing of the card is locked by it.
      await svc.api.reload({
        idempotencyKey: newKey(),
        ...credentialsOf(card),
        amount: 500n,
        currency: 'USD',
        sourceTransactionId: newPurchase(),
      });
      const cards = await snapshot.cardsAfter(0n, 1_000);
      return cards.find((c) => c.card.publicId === card.giftCardId);
    });
    expect(seen?.card.balanceMinor).toBe(1_000n);
    expect(seen?.entries.map((e) => [e.type, e.amountMinor])).toEqual([['ISSUE', 1_000n]]);
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(1_500n);
  });
});
