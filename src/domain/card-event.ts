import type { CardStatus } from './gift-card';
import { EntryType } from './ledger-entry';
import type { Minor } from './money';

/** What other services learn of a card (SPEC §11); the contract's GiftCardEventType. */
export const CardEventType = {
  ISSUED: 'ISSUED',
  RELOADED: 'RELOADED',
  REDEEMED: 'REDEEMED',
  REFUNDED: 'REFUNDED',
  TRANSFERRED_OUT: 'TRANSFERRED_OUT',
  TRANSFERRED_IN: 'TRANSFERRED_IN',
  COMBINED_OUT: 'COMBINED_OUT',
  COMBINED_IN: 'COMBINED_IN',
  REVERSED: 'REVERSED',
  HOLD_PLACED: 'HOLD_PLACED',
  HOLD_VOIDED: 'HOLD_VOIDED',
  HOLD_EXPIRED: 'HOLD_EXPIRED',
  STATUS_CHANGED: 'STATUS_CHANGED',
  SAVED: 'SAVED',
  SHARED: 'SHARED',
  UNSHARED: 'UNSHARED',
  GIFTED: 'GIFTED',
  ADJUSTED: 'ADJUSTED',
  CREDENTIALS_REISSUED: 'CREDENTIALS_REISSUED',
} as const;
export type CardEventType = (typeof CardEventType)[keyof typeof CardEventType];

/**
 * The event every ledger entry of a type produces. A new entry type does not compile until it is
 * given one, so no balance change can go unannounced.
 */
export const EVENT_OF_ENTRY: Readonly<Record<EntryType, CardEventType>> = {
  [EntryType.ISSUE]: CardEventType.ISSUED,
  [EntryType.RELOAD]: CardEventType.RELOADED,
  [EntryType.REDEEM]: CardEventType.REDEEMED,
  [EntryType.REFUND]: CardEventType.REFUNDED,
  [EntryType.TRANSFER_OUT]: CardEventType.TRANSFERRED_OUT,
  [EntryType.TRANSFER_IN]: CardEventType.TRANSFERRED_IN,
  [EntryType.COMBINE_OUT]: CardEventType.COMBINED_OUT,
  [EntryType.COMBINE_IN]: CardEventType.COMBINED_IN,
  [EntryType.REVERSAL]: CardEventType.REVERSED,
  [EntryType.ADJUSTMENT]: CardEventType.ADJUSTED,
};

/**
 * One committed change to one card, as it goes into the outbox. Never a card number or passcode:
 * other services get the public id.
 */
export interface CardEvent {
  /** Stable across redeliveries: consumers deduplicate by it. */
  readonly eventId: string;
  readonly type: CardEventType;
  /** Internal row id: the outbox keeps each card's events in the order they were written. */
  readonly cardId: bigint;
  readonly giftCardId: string;
  readonly occurredAt: Date;
  /** The calling service, where one is known. */
  readonly caller: string;
  /** The request that made the change: shared by all its events, and by its ledger entries. */
  readonly operationId: string;
  readonly ledgerEntryId: string | null;
  readonly holdId: string | null;
  /** Signed change of the balance; zero when no money moved. */
  readonly amountMinor: Minor;
  readonly balanceAfterMinor: Minor;
  readonly availableAfterMinor: Minor;
  readonly currency: string;
  readonly status: CardStatus;
  readonly externalRef: string | null;
  /** Wallet events: whose access changed. */
  readonly userId: string | null;
  /** GIFTED: who gave the card. */
  readonly senderUserId: string | null;
}
