import { availableMinor, debit, insufficientFunds, type GiftCard } from './gift-card';
import type { Minor } from './money';

/** What a redemption or an authorization may take from the available balance. */
export interface Take {
  readonly takenMinor: Minor;
  readonly partial: boolean;
}

/**
 * How much of the amount the card's available balance covers. With allowPartial, a short
 * available balance is taken whole instead of refusing; an empty one still refuses, since taking
 * nothing is no redemption (nor a hold).
 */
export function takeAvailable(card: GiftCard, amountMinor: Minor, allowPartial: boolean): Take {
  const available = availableMinor(card);
  if (available >= amountMinor) return { takenMinor: amountMinor, partial: false };
  if (!allowPartial || available === 0n) throw insufficientFunds(card, amountMinor);
  return { takenMinor: available, partial: true };
}

export interface Redemption extends Take {
  readonly card: GiftCard;
}

/** Takes the amount (or, with allowPartial, what is available) off the card. */
export function redeem(card: GiftCard, amountMinor: Minor, allowPartial: boolean): Redemption {
  const take = takeAvailable(card, amountMinor, allowPartial);
  return { ...take, card: debit(card, take.takenMinor) };
}
