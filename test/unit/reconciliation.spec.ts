import { EntryType } from '../../src/domain/ledger-entry';
import {
  BreakLocator,
  DiscrepancyKind,
  FLOW_OF_ENTRY,
  LedgerReconciliation,
  NO_OPEN_HOLDS,
  liabilityFromFlows,
  type CardFigures,
  type EntrySum,
} from '../../src/domain/reconciliation';

const AS_OF = new Date('2030-01-01T00:00:00.000Z');
const MAX = 100_000n;

const aCard = (overrides: Partial<CardFigures> = {}): CardFigures => ({
  publicId: 'card-1',
  currency: 'USD',
  balanceMinor: 700n,
  heldMinor: 0n,
  status: 'ACTIVE',
  expiresAt: null,
  ...overrides,
});
const sums = (...pairs: [string, bigint][]): EntrySum[] =>
  pairs.map(([type, amountMinor]) => ({ type, currency: 'USD', amountMinor, count: 1 }));

describe('The reconciliation rules', () => {
  it('give every entry kind a figure, and the figures explain the balances: issued + reloaded + adjusted - redeemed + refunded + reversed', () => {
    expect(Object.keys(FLOW_OF_ENTRY).sort()).toEqual(Object.values(EntryType).sort());
    const reconciliation = new LedgerReconciliation(MAX, AS_OF);
    const found = reconciliation.addCard(
      aCard({ balanceMinor: 950n }),
      sums(['ISSUE', 1_000n], ['RELOAD', 500n], ['REDEEM', -800n], ['REFUND', 200n], ['REVERSAL', 50n]),
      NO_OPEN_HOLDS,
    );
    expect(found).toEqual([]);
    const { totals, discrepancies } = reconciliation.finish();
    expect(discrepancies).toEqual([]);
    expect(totals).toEqual([
      expect.objectContaining({
        currency: 'USD',
        cards: 1,
        entries: 5,
        outstandingMinor: 950n,
        flows: {
          issued: 1_000n,
          reloaded: 500n,
          adjusted: 0n,
          redeemed: 800n,
          refunded: 200n,
          reversed: 50n,
          movedIn: 0n,
          movedOut: 0n,
        },
      }),
    ]);
    expect(liabilityFromFlows(totals[0]!.flows)).toBe(950n);
  });

  it('find a balance that is not the sum of its entries, with the size of the difference', () => {
    const found = new LedgerReconciliation(MAX, AS_OF).addCard(
      aCard({ balanceMinor: 900n }),
      sums(['ISSUE', 700n]),
      NO_OPEN_HOLDS,
    );
    expect(found).toEqual([
      expect.objectContaining({
        kind: DiscrepancyKind.BALANCE_NOT_ENTRY_SUM,
        giftCardId: 'card-1',
        expectedMinor: 700n,
        actualMinor: 900n,
      }),
    ]);
  });

  it('find a balance below zero or above the maximum', () => {
    const reconciliation = new LedgerReconciliation(MAX, AS_OF);
    const kinds = (balanceMinor: bigint): string[] =>
      reconciliation.addCard(aCard({ balanceMinor }), sums(['ISSUE', balanceMinor]), NO_OPEN_HOLDS).map((d) => d.kind);
    expect(kinds(-1n)).toEqual([DiscrepancyKind.NEGATIVE_BALANCE]);
    expect(kinds(MAX)).toEqual([]);
    expect(kinds(MAX + 1n)).toEqual([DiscrepancyKind.BALANCE_ABOVE_MAXIMUM]);
  });

  it('find holds beyond the balance, and a hold tally that is not the open holds', () => {
    const reconciliation = new LedgerReconciliation(MAX, AS_OF);
    expect(
      reconciliation
        .addCard(aCard({ heldMinor: 800n }), sums(['ISSUE', 700n]), { amountMinor: 800n, count: 2 })
        .map((d) => [d.kind, d.expectedMinor, d.actualMinor]),
    ).toEqual([[DiscrepancyKind.HOLDS_EXCEED_BALANCE, 700n, 800n]]);
    expect(
      reconciliation
        .addCard(aCard({ heldMinor: 100n }), sums(['ISSUE', 700n]), { amountMinor: 300n, count: 1 })
        .map((d) => [d.kind, d.expectedMinor, d.actualMinor]),
    ).toEqual([[DiscrepancyKind.HOLD_TALLY_MISMATCH, 300n, 100n]]);
    expect(
      reconciliation.addCard(aCard({ heldMinor: 700n }), sums(['ISSUE', 700n]), { amountMinor: 700n, count: 1 }),
    ).toEqual([]);
  });

  it('find entries in another currency than their card, and entry kinds it does not know', () => {
    const found = new LedgerReconciliation(MAX, AS_OF).addCard(
      aCard({ balanceMinor: 800n }),
      [
        { type: 'ISSUE', currency: 'USD', amountMinor: 700n, count: 1 },
        { type: 'RELOAD', currency: 'EUR', amountMinor: 50n, count: 1 },
        { type: 'BONUS', currency: 'USD', amountMinor: 50n, count: 1 },
      ],
      NO_OPEN_HOLDS,
    );
    expect(found.map((d) => d.kind)).toEqual([
      DiscrepancyKind.ENTRY_CURRENCY_MISMATCH,
      DiscrepancyKind.UNKNOWN_ENTRY_TYPE,
    ]);
  });

  it('count expired, deactivated and combined cards as breakage candidates, per currency', () => {
    const reconciliation = new LedgerReconciliation(MAX, AS_OF);
    const add = (card: Partial<CardFigures>): void => {
      const balanceMinor = card.balanceMinor ?? 0n;
      const currency = card.currency ?? 'USD';
      reconciliation.addCard(
        aCard(card),
        [{ type: 'ISSUE', currency, amountMinor: balanceMinor, count: 1 }],
        NO_OPEN_HOLDS,
      );
    };
    add({ balanceMinor: 100n, expiresAt: AS_OF });
    add({ balanceMinor: 200n, expiresAt: new Date(AS_OF.getTime() + 1) });
    add({ balanceMinor: 400n, status: 'DEACTIVATED', expiresAt: AS_OF });
    add({ balanceMinor: 800n, status: 'COMBINED' });
    add({ balanceMinor: 1_600n, currency: 'EUR', expiresAt: AS_OF });
    const { totals } = reconciliation.finish();
    expect(totals.map((t) => [t.currency, t.outstandingMinor, t.expiredMinor, t.deactivatedMinor])).toEqual([
      ['EUR', 1_600n, 1_600n, 0n],
      ['USD', 1_500n, 100n, 1_200n],
    ]);
  });

  it('find a currency whose balances the flows do not explain, and moves between cards that do not net zero', () => {
    const reconciliation = new LedgerReconciliation(MAX, AS_OF);
    reconciliation.addCard(
      aCard({ publicId: 'a', balanceMinor: 0n }),
      sums(['ISSUE', 500n], ['TRANSFER_OUT', -500n]),
      NO_OPEN_HOLDS,
    );
    reconciliation.addCard(aCard({ publicId: 'b', balanceMinor: 400n }), sums(['TRANSFER_IN', 400n]), NO_OPEN_HOLDS);
    expect(reconciliation.finish().discrepancies.map((d) => [d.kind, d.expectedMinor, d.actualMinor])).toEqual([
      [DiscrepancyKind.LIABILITY_NOT_EXPLAINED, 500n, 400n],
      [DiscrepancyKind.MOVES_NOT_NET_ZERO, 500n, 400n],
    ]);
  });
});

describe('Locating where a balance left its entries', () => {
  const entry = (publicId: string, amountMinor: bigint, balanceAfterMinor: bigint) => ({
    publicId,
    amountMinor,
    balanceAfterMinor,
  });

  it('names the last good entry and the first whose recorded balance is not the running sum (an entry missing between them)', () => {
    const locator = new BreakLocator();
    // e2 (+300) was deleted: e3 still records the balance that counted it.
    const fed = [entry('e1', 1_000n, 1_000n), entry('e3', 200n, 1_500n), entry('e4', 100n, 1_600n)].map((e) =>
      locator.feed(e),
    );
    expect(fed).toEqual([true, false, false]);
    expect(locator.entries()).toEqual(['e1', 'e3']);
    expect(locator.brokeInsideLedger).toBe(true);
  });

  it('names the last entry when every entry agrees: the card row changed after it', () => {
    const locator = new BreakLocator();
    locator.feed(entry('e1', 1_000n, 1_000n));
    locator.feed(entry('e2', -400n, 600n));
    expect(locator.entries()).toEqual(['e2']);
    expect(locator.brokeInsideLedger).toBe(false);
  });
});
