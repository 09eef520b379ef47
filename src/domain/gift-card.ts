import { DomainError, ErrorReason } from './errors';
import { assertWithinMaximum, type Minor } from './money';

export const CardStatus = {
  ACTIVE: 'ACTIVE',
  DEACTIVATED: 'DEACTIVATED',
  COMBINED: 'COMBINED',
  /** An operator stopped the card (SPEC §10); UnblockCard makes it ACTIVE again. */
  BLOCKED: 'BLOCKED',
} as const;
export type CardStatus = (typeof CardStatus)[keyof typeof CardStatus];

/**
 * What an operation does to a card, as far as its status is concerned. Every application
 * operation names its use when it checks a card, so one table below decides, for all of them,
 * which statuses admit it.
 */
export const CardUse = {
  REDEEM: 'REDEEM',
  RELOAD: 'RELOAD',
  REFUND: 'REFUND',
  TRANSFER: 'TRANSFER',
  COMBINE: 'COMBINE',
  GIFT: 'GIFT',
  AUTHORIZE: 'AUTHORIZE',
  CAPTURE: 'CAPTURE',
  ADJUST: 'ADJUST',
  VOID: 'VOID',
  REVERSE: 'REVERSE',
  REISSUE: 'REISSUE',
  BLOCK: 'BLOCK',
  UNBLOCK: 'UNBLOCK',
  INQUIRE: 'INQUIRE',
} as const;
export type CardUse = (typeof CardUse)[keyof typeof CardUse];

const MOVES_MONEY: readonly CardStatus[] = [CardStatus.ACTIVE];
/** Undoing a call that should not have happened is never stopped by a block, nor is an operator's own lifecycle work. */
const RELEASES_OR_UNDOES: readonly CardStatus[] = [CardStatus.ACTIVE, CardStatus.BLOCKED];

/**
 * The statuses each use admits (SPEC §10): only an ACTIVE card moves money, except that VoidHold and
 * ReverseOperation also reach a BLOCKED one; a blocked card can still be given new credentials (the
 * owner of a stolen card needs them before it is unblocked); anything can be looked at.
 */
const STATUSES_ADMITTING: Readonly<Record<CardUse, readonly CardStatus[]>> = {
  [CardUse.REDEEM]: MOVES_MONEY,
  [CardUse.RELOAD]: MOVES_MONEY,
  [CardUse.REFUND]: MOVES_MONEY,
  [CardUse.TRANSFER]: MOVES_MONEY,
  [CardUse.COMBINE]: MOVES_MONEY,
  [CardUse.GIFT]: MOVES_MONEY,
  [CardUse.AUTHORIZE]: MOVES_MONEY,
  [CardUse.CAPTURE]: MOVES_MONEY,
  [CardUse.ADJUST]: MOVES_MONEY,
  // A hold is released whatever became of its card: the money was only ever promised.
  [CardUse.VOID]: Object.values(CardStatus),
  [CardUse.REVERSE]: RELEASES_OR_UNDOES,
  [CardUse.REISSUE]: RELEASES_OR_UNDOES,
  [CardUse.BLOCK]: RELEASES_OR_UNDOES,
  [CardUse.UNBLOCK]: RELEASES_OR_UNDOES,
  [CardUse.INQUIRE]: Object.values(CardStatus),
};

/** Whether a card in this status may be touched by the use: the one place that decides it. */
export function statusAdmits(status: CardStatus, use: CardUse): boolean {
  return STATUSES_ADMITTING[use].includes(status);
}

/**
 * Refuses a use the card's status does not admit. A blocked card has its own reason, so a caller
 * tells "stopped by an operator, ask them" from "closed for good".
 */
export function assertStatusAdmits(card: GiftCard, use: CardUse): void {
  if (statusAdmits(card.status, use)) return;
  if (card.status === CardStatus.BLOCKED) {
    throw new DomainError(ErrorReason.CARD_BLOCKED, 'gift card is blocked by an operator', {
      giftCardId: card.publicId,
      operation: use,
    });
  }
  throw new DomainError(ErrorReason.CARD_NOT_ACTIVE, `gift card is ${card.status}`, { status: card.status });
}

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

/** Redeem, reload, transfer, combine, gift and holds need a card the use admits and not past its expiry. */
export function assertSpendable(card: GiftCard, now: Date, use: CardUse): void {
  // Our bug, not the caller's: the available balance of an unsettled card counts a lapsed hold.
  if (hasLapsedHolds(card, now)) throw new Error(`card ${card.publicId} was used before its lapsed holds were settled`);
  assertStatusAdmits(card, use);
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
