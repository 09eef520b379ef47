import { randomUUID } from 'node:crypto';
import { availableMinor, hasLapsedHolds, type GiftCard } from '../domain/gift-card';
import type { EntryType, StoredLedgerEntry } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import { sourceTransactionUsed } from '../domain/errors';
import { balanceChanged } from './card-events';
import { FundingReferenceUsed, type TransactionScope } from './ports';

export interface Posting {
  /** The card as it is after the change: its balance becomes the entry's balance after. */
  readonly card: GiftCard;
  readonly type: EntryType;
  /** Signed: positive credits, negative debits. */
  readonly amountMinor: Minor;
  readonly operationId: string;
  /** The entry's public id, when the reply was built before the entry was written. */
  readonly publicId?: string;
  readonly externalRef: string | null;
  readonly refundOfEntryId?: bigint;
  /** The hold a capture's REDEEM entry settles. */
  readonly hold?: { readonly id: bigint; readonly publicId: string };
  /** The entry a REVERSAL undoes. */
  readonly reversesEntryId?: bigint;
  readonly now: Date;
}

/**
 * Writes the ledger entry for a balance change, in the transaction that saves the card, and the
 * event that announces it: every entry has its event, whichever operation posts it. A funding
 * entry (ISSUE, RELOAD) whose reference already funded one is refused by the ledger's unique key:
 * a purchase funds once, whatever idempotency key it comes with.
 */
export async function post(tx: TransactionScope, posting: Posting): Promise<StoredLedgerEntry> {
  // A lapsed hold not yet recorded as expired would land after this entry in the card's history.
  if (hasLapsedHolds(posting.card, posting.now)) {
    throw new Error(`card ${posting.card.publicId} was posted to before its lapsed holds were settled`);
  }
  let entry: StoredLedgerEntry;
  try {
    entry = await tx.ledger.append({
      publicId: posting.publicId ?? randomUUID(),
      cardId: posting.card.id,
      operationId: posting.operationId,
      type: posting.type,
      amountMinor: posting.amountMinor,
      balanceAfterMinor: posting.card.balanceMinor,
      availableAfterMinor: availableMinor(posting.card),
      currency: posting.card.currency,
      externalRef: posting.externalRef,
      refundOfEntryId: posting.refundOfEntryId ?? null,
      holdId: posting.hold?.id ?? null,
      reversesEntryId: posting.reversesEntryId ?? null,
      createdAt: posting.now,
    });
  } catch (error) {
    if (error instanceof FundingReferenceUsed) throw sourceTransactionUsed(posting.externalRef ?? '');
    throw error;
  }
  tx.outbox.add(balanceChanged(posting.card, entry, posting.hold?.publicId ?? null));
  return entry;
}

/** Applies a card's new balance and records why, together. */
export async function saveAndPost(tx: TransactionScope, posting: Posting): Promise<StoredLedgerEntry> {
  await tx.cards.save(posting.card, posting.now);
  return post(tx, posting);
}
