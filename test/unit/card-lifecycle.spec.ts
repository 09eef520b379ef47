import { adjust, block, unblock } from '../../src/domain/card-lifecycle';
import { DomainError } from '../../src/domain/errors';
import { assertStatusAdmits, CardStatus, CardUse, statusAdmits } from '../../src/domain/gift-card';
import { aCard } from '../support/card-fixture';

const reasonOf = (work: () => unknown): string | null => {
  try {
    work();
    return null;
  } catch (error) {
    if (error instanceof DomainError) return error.reason;
    throw error;
  }
};

const MONEY_MOVES = [
  CardUse.REDEEM,
  CardUse.RELOAD,
  CardUse.REFUND,
  CardUse.TRANSFER,
  CardUse.COMBINE,
  CardUse.GIFT,
  CardUse.AUTHORIZE,
  CardUse.CAPTURE,
  CardUse.ADJUST,
];

describe('Which statuses each use of a card admits', () => {
  it('refuses every money movement on a blocked card with CARD_BLOCKED, and on a closed one with CARD_NOT_ACTIVE', () => {
    for (const use of MONEY_MOVES) {
      expect(statusAdmits(CardStatus.ACTIVE, use)).toBe(true);
      expect(
        reasonOf(() => {
          assertStatusAdmits(aCard({ status: CardStatus.BLOCKED }), use);
        }),
      ).toBe('CARD_BLOCKED');
      expect(
        reasonOf(() => {
          assertStatusAdmits(aCard({ status: CardStatus.DEACTIVATED }), use);
        }),
      ).toBe('CARD_NOT_ACTIVE');
    }
  });

  it('lets void, reversal, reissue, inquiry and the lifecycle calls reach a blocked card', () => {
    for (const use of [
      CardUse.VOID,
      CardUse.REVERSE,
      CardUse.REISSUE,
      CardUse.INQUIRE,
      CardUse.BLOCK,
      CardUse.UNBLOCK,
    ]) {
      expect(statusAdmits(CardStatus.BLOCKED, use)).toBe(true);
    }
  });
});

describe('Block and unblock', () => {
  it('blocks an active card, leaves a blocked one as it is, and refuses a combined one', () => {
    expect(block(aCard())?.status).toBe(CardStatus.BLOCKED);
    expect(block(aCard({ status: CardStatus.BLOCKED }))).toBeNull();
    expect(reasonOf(() => block(aCard({ status: CardStatus.COMBINED })))).toBe('CARD_NOT_ACTIVE');
  });

  it('unblocks a blocked card and leaves an active one as it is', () => {
    expect(unblock(aCard({ status: CardStatus.BLOCKED }))?.status).toBe(CardStatus.ACTIVE);
    expect(unblock(aCard())).toBeNull();
  });
});

describe('Adjust', () => {
  it('credits within the maximum and debits within the available balance', () => {
    const card = aCard({ balanceMinor: 1_000n, holds: { heldMinor: 300n, count: 1, nextExpiresAt: null } });
    expect(adjust(card, 500n, 'USD', 2_000n).balanceMinor).toBe(1_500n);
    expect(reasonOf(() => adjust(card, 1_001n, 'USD', 2_000n))).toBe('BALANCE_LIMIT_EXCEEDED');
    expect(adjust(card, -700n, 'USD', 2_000n).balanceMinor).toBe(300n);
    expect(reasonOf(() => adjust(card, -701n, 'USD', 2_000n))).toBe('INSUFFICIENT_FUNDS');
    expect(reasonOf(() => adjust(card, 1n, 'EUR', 2_000n))).toBe('CURRENCY_MISMATCH');
  });
});
