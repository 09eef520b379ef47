import type { Minor } from './money';

export const EntryType = {
  ISSUE: 'ISSUE',
  RELOAD: 'RELOAD',
  REDEEM: 'REDEEM',
  REFUND: 'REFUND',
  TRANSFER_OUT: 'TRANSFER_OUT',
  TRANSFER_IN: 'TRANSFER_IN',
  COMBINE_OUT: 'COMBINE_OUT',
  COMBINE_IN: 'COMBINE_IN',
  /** Undoes an entry whose call was reversed (ReverseOperation): the opposite amount, once. */
  REVERSAL: 'REVERSAL',
  /** An operator's correction (AdjustBalance), signed, with a reason code and a note kept beside it. */
  ADJUSTMENT: 'ADJUSTMENT',
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One immutable ledger row: a card's balance always equals the sum of its entries' amounts. */
export interface LedgerEntry {
  /** Public id, the wire's transactionId. */
  readonly publicId: string;
  readonly cardId: bigint;
  /** Shared by every entry one request wrote (both sides of a transfer, all of a combine). */
  readonly operationId: string;
  readonly type: EntryType;
  /** Signed: credits positive, debits negative. */
  readonly amountMinor: Minor;
  readonly balanceAfterMinor: Minor;
  /** The balance after less the card's active holds then. */
  readonly availableAfterMinor: Minor;
  readonly currency: string;
  /** The caller's reference: the funding purchase, the order, the cancellation. */
  readonly externalRef: string | null;
  /** For a refund, the internal id of the redemption entry it gives back. */
  readonly refundOfEntryId: bigint | null;
  /** For a capture's REDEEM entry, the internal id of the hold it captured. */
  readonly holdId: bigint | null;
  /** For a REVERSAL, the internal id of the entry it undoes. */
  readonly reversesEntryId: bigint | null;
  readonly createdAt: Date;
}

/** A stored entry, with its internal row id. */
export interface StoredLedgerEntry extends LedgerEntry {
  readonly id: bigint;
}
