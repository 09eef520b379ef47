import { DomainError } from '../../src/domain/errors';
import { redeem } from '../../src/domain/redemption';
import { aCard } from '../support/card-fixture';

const card = (balanceMinor: bigint) => aCard({ balanceMinor });

describe('redeem (domain rule)', () => {
  it('takes the whole amount when the balance covers it', () => {
    expect(redeem(card(500n), 200n, false)).toMatchObject({
      takenMinor: 200n,
      partial: false,
      card: { balanceMinor: 300n },
    });
  });

  it('refuses a short balance unless partial redemption is allowed', () => {
    expect(() => redeem(card(100n), 200n, false)).toThrow(DomainError);
    expect(redeem(card(100n), 200n, true)).toMatchObject({
      takenMinor: 100n,
      partial: true,
      card: { balanceMinor: 0n },
    });
  });

  it('refuses a partial redemption of an empty card', () => {
    expect(() => redeem(card(0n), 1n, true)).toThrow(/balance is lower than the amount/);
  });

  it('keeps amounts above 2^53 exact', () => {
    const big = 2n ** 60n;
    expect(redeem(card(big + 1n), big, false).card.balanceMinor).toBe(1n);
  });
});
