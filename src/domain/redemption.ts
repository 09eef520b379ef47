import { debit, insufficientFunds, type GiftCard } from './gift-card';
import type { Minor } from './money';

export interface Redemption {
  readonly card: GiftCard;
  readonly takenMinor: Minor;
  readonly partial: boolean;
}

/**
 * Takes the amount off the card. With allowPartial, a short balance is taken whole instead of
 * refusing; an empty card still refuses, since a redemption of nothing is no redemption.
 */
export function redeem(card: GiftCard, amountMinor: Minor, allowPartial: boolean): Redemption {
  if (card.balanceMinor >= amountMinor) {
    return { card: debit(card, amountMinor), takenMinor: amountMinor, partial: false };
  }
  if (!allowPartial || card.balanceMinor === 0n) throw insufficientFunds(card, amountMinor);
  const takenMinor = card.balanceMinor;
  return { card: debit(card, takenMinor), takenMinor, partial: true };
}
