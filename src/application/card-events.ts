import { randomUUID } from 'node:crypto';
import { currentCallerName, NO_CALLER_NAME } from '../call-caller';
import { CardEventType, EVENT_OF_ENTRY, type CardEvent } from '../domain/card-event';
import { availableMinor, type GiftCard } from '../domain/gift-card';
import type { Hold } from '../domain/hold';
import { HoldEventType } from '../domain/hold-event';
import type { Minor } from '../domain/money';
import type { LedgerEntry } from '../domain/ledger-entry';

/**
 * The events operations add to the outbox (SPEC §11), each built from the card as it is after the
 * change. A balance change's event is added by ledger-posting.ts with its entry; an operation adds
 * the others itself, one line each, under the card's row lock.
 */

type WalletEventType =
  | typeof CardEventType.SAVED
  | typeof CardEventType.SHARED
  | typeof CardEventType.UNSHARED
  | typeof CardEventType.GIFTED;

function cardEvent(card: GiftCard, type: CardEvent['type'], operationId: string, occurredAt: Date): CardEvent {
  return {
    eventId: randomUUID(),
    type,
    cardId: card.id,
    giftCardId: card.publicId,
    occurredAt,
    // The service that asked for the change; empty for the service's own work (expiring holds).
    caller: currentCallerName(),
    operationId,
    ledgerEntryId: null,
    holdId: null,
    amountMinor: 0n,
    balanceAfterMinor: card.balanceMinor,
    availableAfterMinor: availableMinor(card),
    currency: card.currency,
    status: card.status,
    externalRef: null,
    userId: null,
    senderUserId: null,
  };
}

/**
 * The event of a ledger entry; `card` is the card as the entry left it, `holdId` the public id of
 * the hold a capture's entry captured.
 */
export function balanceChanged(card: GiftCard, entry: LedgerEntry, holdId: string | null = null): CardEvent {
  return {
    ...cardEvent(card, EVENT_OF_ENTRY[entry.type], entry.operationId, entry.createdAt),
    ledgerEntryId: entry.publicId,
    holdId,
    amountMinor: entry.amountMinor,
    externalRef: entry.externalRef,
  };
}

const EVENT_OF_HOLD: Readonly<Record<HoldEventType, CardEventType>> = {
  [HoldEventType.PLACED]: CardEventType.HOLD_PLACED,
  [HoldEventType.VOIDED]: CardEventType.HOLD_VOIDED,
  [HoldEventType.EXPIRED]: CardEventType.HOLD_EXPIRED,
};

/** A hold placed, voided or expired: no money moved, the available balance did. */
export function holdChanged(
  type: HoldEventType,
  hold: Hold,
  card: GiftCard,
  availableAfterMinor: Minor,
  operationId: string,
  occurredAt: Date,
): CardEvent {
  return {
    ...cardEvent(card, EVENT_OF_HOLD[type], operationId, occurredAt),
    // An expiry is the clock's doing, whichever call happened to record it.
    ...(type === HoldEventType.EXPIRED ? { caller: NO_CALLER_NAME } : {}),
    holdId: hold.publicId,
    availableAfterMinor,
    externalRef: hold.orderId,
  };
}

/** The card's status is now `card.status`, changed by the request `operationId`. */
export function statusChanged(card: GiftCard, operationId: string, now: Date): CardEvent {
  return cardEvent(card, CardEventType.STATUS_CHANGED, operationId, now);
}

/** Who may use the card changed for `userId`, by the request `operationId`; a gift also names its sender. */
export function walletChanged(
  type: WalletEventType,
  card: GiftCard,
  userId: string,
  operationId: string,
  now: Date,
  senderUserId: string | null = null,
): CardEvent {
  return { ...cardEvent(card, type, operationId, now), userId, senderUserId };
}

/** The card's number and passcode were replaced by the request `operationId`; neither is in the event. */
export function credentialsReissued(card: GiftCard, operationId: string, now: Date): CardEvent {
  return cardEvent(card, CardEventType.CREDENTIALS_REISSUED, operationId, now);
}
