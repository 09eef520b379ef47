import {
  assertStatusAdmits,
  availableMinor,
  CardStatus,
  CardUse,
  credit,
  insufficientFunds,
  type GiftCard,
} from './gift-card';
import { assertSameCurrency, type Minor } from './money';

/**
 * Operators' and owners' lifecycle rules (SPEC §10): blocking a card, correcting its balance.
 * Which operations a blocked card admits is decided with every other status in gift-card.ts.
 */

/** Why an operator corrected a balance; the contract's AdjustmentReason. */
export const AdjustmentReason = {
  SYSTEM_ERROR: 'SYSTEM_ERROR',
  GOODWILL: 'GOODWILL',
  DISPUTE: 'DISPUTE',
  FRAUD: 'FRAUD',
  OTHER: 'OTHER',
} as const;
export type AdjustmentReason = (typeof AdjustmentReason)[keyof typeof AdjustmentReason];

/** A block as kept: why, and since when. */
export interface CardBlock {
  readonly reason: string;
  readonly since: Date;
}

/**
 * The card blocked; null when it already was, which changes nothing (a second report of the same
 * theft is not an error). A closed or combined card holds nothing to protect: refused.
 */
export function block(card: GiftCard): GiftCard | null {
  assertStatusAdmits(card, CardUse.BLOCK);
  return card.status === CardStatus.BLOCKED ? null : { ...card, status: CardStatus.BLOCKED };
}

/** The card active again; null when it was not blocked, which changes nothing. */
export function unblock(card: GiftCard): GiftCard | null {
  assertStatusAdmits(card, CardUse.UNBLOCK);
  return card.status === CardStatus.BLOCKED ? { ...card, status: CardStatus.ACTIVE } : null;
}

/**
 * The card after a signed correction. A credit stays within the maximum balance; a debit takes only
 * what the card can spend, since its holds were promised the rest. Expiry does not stop an
 * operator: correcting an expired card's record is still a correction.
 */
export function adjust(card: GiftCard, amountMinor: Minor, currency: string, maxBalanceMinor: Minor): GiftCard {
  assertStatusAdmits(card, CardUse.ADJUST);
  assertSameCurrency(card.currency, currency);
  // The transport refuses zero as a field violation; reaching here with it is our bug.
  if (amountMinor === 0n) throw new Error('an adjustment moves a non-zero amount');
  if (amountMinor > 0n) return credit(card, amountMinor, maxBalanceMinor);
  if (-amountMinor > availableMinor(card)) throw insufficientFunds(card, -amountMinor);
  return { ...card, balanceMinor: card.balanceMinor + amountMinor };
}
