import { DomainError, ErrorReason } from './errors';
import { assertWithinMaximum, type Minor } from './money';

export const CardStatus = {
  ACTIVE: 'ACTIVE',
  DEACTIVATED: 'DEACTIVATED',
  COMBINED: 'COMBINED',
} as const;
export type CardStatus = (typeof CardStatus)[keyof typeof CardStatus];

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

export function debit(card: GiftCard, amountMinor: Minor): GiftCard {
  if (amountMinor > card.balanceMinor) throw insufficientFunds(card, amountMinor);
  return { ...card, balanceMinor: card.balanceMinor - amountMinor };
}

export function insufficientFunds(card: GiftCard, requestedMinor: Minor): DomainError {
  return new DomainError(ErrorReason.INSUFFICIENT_FUNDS, 'balance is lower than the amount', {
    balance: card.balanceMinor.toString(),
    requested: requestedMinor.toString(),
  });
}

/** Empties a card into its successor: the source keeps its history, never its money. */
export function retire(card: GiftCard, status: CardStatus, successorCardId: bigint): GiftCard {
  return { ...card, balanceMinor: 0n, status, successorCardId };
}
