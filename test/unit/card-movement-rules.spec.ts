import { transferAmount } from '../../src/domain/balance-transfer';
import { combine, MAX_COMBINE_SOURCES } from '../../src/domain/combination';
import { DomainError } from '../../src/domain/errors';
import { CardStatus, type GiftCard } from '../../src/domain/gift-card';
import { aCard } from '../support/card-fixture';

const NOW = new Date('2030-01-01T00:00:00Z');

function card(id: number, balanceMinor: bigint, overrides: Partial<GiftCard> = {}): GiftCard {
  return aCard({ id: BigInt(id), balanceMinor, ...overrides });
}

function refusal(rule: () => unknown): { reason: string; metadata: Record<string, string> } {
  try {
    rule();
  } catch (error) {
    if (error instanceof DomainError) return { reason: error.reason, metadata: { ...error.metadata } };
    throw error;
  }
  throw new Error('expected the rule to refuse');
}

describe('transferAmount', () => {
  const terms = (amountMinor: bigint, deleteSource: boolean) => ({ amountMinor, currency: 'USD', deleteSource });

  it('moves the requested amount, or with deleteSource and no amount the whole balance', () => {
    expect(transferAmount(card(1, 500n), terms(200n, false), NOW)).toBe(200n);
    expect(transferAmount(card(1, 500n), terms(0n, true), NOW)).toBe(500n);
    expect(transferAmount(card(1, 500n), terms(500n, true), NOW)).toBe(500n);
  });

  it('refuses a partial amount when deleting the source, and any transfer of an empty card', () => {
    expect(refusal(() => transferAmount(card(1, 500n), terms(499n, true), NOW)).reason).toBe(
      'TRANSFER_AMOUNT_MISMATCH',
    );
    expect(refusal(() => transferAmount(card(1, 0n), terms(0n, true), NOW)).reason).toBe('INSUFFICIENT_FUNDS');
    expect(refusal(() => transferAmount(card(1, 100n), terms(101n, false), NOW)).reason).toBe('INSUFFICIENT_FUNDS');
  });

  it('refuses an inactive or expired source and another currency', () => {
    const combined = card(1, 100n, { status: CardStatus.COMBINED });
    const expired = card(1, 100n, { expiresAt: NOW });
    expect(refusal(() => transferAmount(combined, terms(1n, false), NOW)).reason).toBe('CARD_NOT_ACTIVE');
    expect(refusal(() => transferAmount(expired, terms(1n, false), NOW)).reason).toBe('CARD_EXPIRED');
    expect(refusal(() => transferAmount(card(1, 100n), { ...terms(1n, false), currency: 'EUR' }, NOW)).reason).toBe(
      'CURRENCY_MISMATCH',
    );
  });
});

describe('combine', () => {
  it('credits the target step by step and retires each source with the target as successor', () => {
    const result = combine(card(5, 10n), [card(9, 30n), card(2, 0n), card(7, 60n)], 1_000n, NOW);
    expect(result.target.balanceMinor).toBe(100n);
    expect(result.steps.map((s) => [s.source.publicId, s.amountMinor, s.target.balanceMinor])).toEqual([
      ['card-9', 30n, 40n],
      ['card-2', 0n, 40n],
      ['card-7', 60n, 100n],
    ]);
    for (const step of result.steps) {
      expect(step.source).toMatchObject({ status: CardStatus.COMBINED, balanceMinor: 0n, successorCardId: 5n });
    }
  });

  it('refuses, naming the card, a source that is not active or is in another currency', () => {
    const inactive = refusal(() =>
      combine(card(1, 0n), [card(2, 1n), card(3, 1n, { status: CardStatus.DEACTIVATED })], 1_000n, NOW),
    );
    expect(inactive).toEqual({ reason: 'CARD_NOT_ACTIVE', metadata: { status: 'DEACTIVATED', giftCardId: 'card-3' } });
    const euro = refusal(() => combine(card(1, 0n), [card(2, 1n, { currency: 'EUR' })], 1_000n, NOW));
    expect(euro).toMatchObject({ reason: 'CURRENCY_MISMATCH', metadata: { giftCardId: 'card-2' } });
  });

  it('refuses a result above the maximum balance, even by one minor unit', () => {
    expect(combine(card(1, 500n), [card(2, 500n)], 1_000n, NOW).target.balanceMinor).toBe(1_000n);
    expect(refusal(() => combine(card(1, 500n), [card(2, 501n)], 1_000n, NOW)).reason).toBe('BALANCE_LIMIT_EXCEEDED');
  });

  it('treats repeated cards or a wrong number of sources as a bug of its caller', () => {
    expect(() => combine(card(1, 0n), [card(1, 0n)], 1_000n, NOW)).toThrow(/distinct/);
    expect(() => combine(card(1, 0n), [card(2, 0n), card(2, 0n)], 1_000n, NOW)).toThrow(/distinct/);
    expect(() => combine(card(1, 0n), [], 1_000n, NOW)).toThrow(/sources/);
    const tooMany = Array.from({ length: MAX_COMBINE_SOURCES + 1 }, (_, i) => card(i + 2, 0n));
    expect(() => combine(card(1, 0n), tooMany, 1_000n, NOW)).toThrow(/sources/);
  });
});
