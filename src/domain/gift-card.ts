import { DomainError, ErrorReason } from './errors';
import { assertWithinMaximum, type Minor } from './money';

export const CardStatus = {
  ACTIVE: 'ACTIVE',
  DEACTIVATED: 'DEACTIVATED',
  COMBINED: 'COMBINED',
} as const;
export type CardStatus = (typeof CardStatus)[keyof typeof CardStatus];

/**
 * The card's open holds: every hold still ACTIVE in storage, including any whose expire time has
 * passed but that nobody has recorded as expired yet (lapsed). Kept on the card row and changed
 * only under its lock, together with the holds themselves.
 */
export interface HoldTally {
  readonly heldMinor: Minor;
  readonly count: number;
  /** The earliest expire time among them; null when there are none. */
  readonly nextExpiresAt: Date | null;
}

export const NO_HOLDS: HoldTally = { heldMinor: 0n, count: 0, nextExpiresAt: null };

/** A card as the rules see it. Values are immutable: each rule returns the changed card. */
export interface GiftCard {
  /** Internal row id: never shown, orders row locks (ascending) so lock cycles cannot form. */
  readonly id: bigint;
  readonly publicId: string;
  readonly numberLast4: string;
  readonly passcodeHash: Uint8Array;
  readonly currency: string;
  readonly balanceMinor: Minor;
  readonly status: CardStatus;
  readonly expiresAt: Date | null;
  /** The card that took this card's balance when it was combined or transferred away. */
  readonly successorCardId: bigint | null;
  readonly holds: HoldTally;
}

/**
 * Whether a hold of the card has passed its expire time without being recorded as expired. Such a
 * hold no longer counts, and the card's tally must be settled (application/lapsed-holds.ts) before
 * any rule reads the available balance or anything is written to the card's history.
 */
export function hasLapsedHolds(card: GiftCard, now: Date): boolean {
  return card.holds.nextExpiresAt !== null && card.holds.nextExpiresAt.getTime() <= now.getTime();
}

/** What the card can spend: its balance less its open holds. Read only from a settled card. */
export function availableMinor(card: GiftCard): Minor {
  return card.balanceMinor - card.holds.heldMinor;
}

/** Retiring or handing over a card with open holds would take money an authorization was promised. */
export function assertNoHoldsOutstanding(card: GiftCard): void {
  if (card.holds.count > 0) {
    throw new DomainError(ErrorReason.HOLDS_OUTSTANDING, 'the card has active holds; capture or void them first', {
      giftCardId: card.publicId,
      activeHolds: card.holds.count.toString(),
      held: card.holds.heldMinor.toString(),
    });
  }
}

export function isExpired(card: GiftCard, now: Date): boolean {
  return card.expiresAt !== null && card.expiresAt.getTime() <= now.getTime();
}

export function assertActive(card: GiftCard): void {
  if (card.status !== CardStatus.ACTIVE) {
    throw new DomainError(ErrorReason.CARD_NOT_ACTIVE, `gift card is ${card.status}`, {
      status: card.status,
    });
  }
}

/** Redeem, reload, transfer and combine need a card that is active and not past its expiry. */
export function assertSpendable(card: GiftCard, now: Date): void {
  // Our bug, not the caller's: the available balance of an unsettled card counts a lapsed hold.
  if (hasLapsedHolds(card, now)) throw new Error(`card ${card.publicId} was used before its lapsed holds were settled`);
  assertActive(card);
  if (isExpired(card, now)) {
    throw new DomainError(ErrorReason.CARD_EXPIRED, 'gift card has expired', {
      expireTime: card.expiresAt?.toISOString() ?? '',
    });
  }
}

export function credit(card: GiftCard, amountMinor: Minor, maxBalanceMinor: Minor): GiftCard {
  const balanceMinor = card.balanceMinor + amountMinor;
  assertWithinMaximum(balanceMinor, maxBalanceMinor);
  return { ...card, balanceMinor };
}

/** Spending sees only the available balance: what holds keep back is promised to their capture. */
export function debit(card: GiftCard, amountMinor: Minor): GiftCard {
  if (amountMinor > availableMinor(card)) throw insufficientFunds(card, amountMinor);
  return { ...card, balanceMinor: card.balanceMinor - amountMinor };
}

export function insufficientFunds(card: GiftCard, requestedMinor: Minor): DomainError {
  const held = card.holds.heldMinor > 0n;
  return new DomainError(
    ErrorReason.INSUFFICIENT_FUNDS,
    held
      ? 'available balance (balance less active holds) is lower than the amount'
      : 'balance is lower than the amount',
    {
      balance: card.balanceMinor.toString(),
      ...(held ? { availableBalance: availableMinor(card).toString() } : {}),
      requested: requestedMinor.toString(),
    },
  );
}

/**
 * Empties a card into its successor: the source keeps its history, never its money. Its rules
 * (transfer, combine) refuse a card with active holds first; the schema's held <= balance check is
 * the backstop.
 */
export function retire(card: GiftCard, status: CardStatus, successorCardId: bigint): GiftCard {
  return { ...card, balanceMinor: 0n, status, successorCardId };
}
