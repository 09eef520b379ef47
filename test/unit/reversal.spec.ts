import { DomainError } from '../../src/domain/errors';
import { CardStatus } from '../../src/domain/gift-card';
import { EntryType, type StoredLedgerEntry } from '../../src/domain/ledger-entry';
import { undoIssue, undoRedemption, undoReload } from '../../src/domain/reversal';
import { aCard } from '../support/card-fixture';

function anEntry(type: EntryType, amountMinor: bigint): StoredLedgerEntry {
  return {
    id: 7n,
    publicId: 'entry-7',
    cardId: 1n,
    operationId: 'op',
    type,
    amountMinor,
    balanceAfterMinor: 0n,
    availableAfterMinor: 0n,
    currency: 'USD',
    externalRef: null,
    refundOfEntryId: null,
    holdId: null,
    reversesEntryId: null,
    createdAt: new Date(0),
  };
}

const reasonOf = (rule: () => unknown): string => {
  try {
    rule();
  } catch (error) {
    if (error instanceof DomainError) return error.reason;
    throw error;
  }
  throw new Error('the rule did not refuse');
};

describe('undoRedemption', () => {
  it('credits what the refunds have not given back, and refuses once nothing is left', () => {
    const redemption = anEntry(EntryType.REDEEM, -300n);
    const undone = undoRedemption(aCard({ balanceMinor: 50n }), redemption, 100n, 10_000n);
    expect(undone).toMatchObject({ amountMinor: 200n, card: { balanceMinor: 250n } });
    expect(reasonOf(() => undoRedemption(aCard(), redemption, 300n, 10_000n))).toBe('REVERSAL_NOT_POSSIBLE');
    expect(reasonOf(() => undoRedemption(aCard({ balanceMinor: 9_900n }), redemption, 0n, 10_000n))).toBe(
      'BALANCE_LIMIT_EXCEEDED',
    );
  });
});

describe('undoReload', () => {
  it('debits the reload back only from the available balance', () => {
    const reload = anEntry(EntryType.RELOAD, 400n);
    const held = { heldMinor: 200n, count: 1, nextExpiresAt: new Date(1) };
    expect(reasonOf(() => undoReload(aCard({ balanceMinor: 500n, holds: held }), reload))).toBe(
      'REVERSAL_NOT_POSSIBLE',
    );
    expect(undoReload(aCard({ balanceMinor: 600n, holds: held }), reload)).toMatchObject({
      amountMinor: -400n,
      card: { balanceMinor: 200n },
    });
  });
});

describe('undoIssue', () => {
  it('deactivates an untouched card and takes its funding back; a touched one is refused', () => {
    const issue = anEntry(EntryType.ISSUE, 2_500n);
    const card = aCard({ balanceMinor: 2_500n });
    expect(undoIssue(card, issue, false)).toMatchObject({
      amountMinor: -2_500n,
      card: { balanceMinor: 0n, status: CardStatus.DEACTIVATED },
    });
    expect(reasonOf(() => undoIssue(card, issue, true))).toBe('REVERSAL_NOT_POSSIBLE');
  });
});
