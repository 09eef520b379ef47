import { DomainError, ErrorReason } from './errors';
import { availableMinor, CardStatus, CardUse, credit, statusAdmits, type GiftCard } from './gift-card';
import { EntryType, type StoredLedgerEntry } from './ledger-entry';
import type { Minor } from './money';

/** The operations ReverseOperation undoes, by the name each records its idempotency key under. */
export const ReversibleOperation = {
  ISSUE_VIRTUAL_CARD: 'IssueVirtualCard',
  RELOAD: 'Reload',
  REDEEM: 'Redeem',
  AUTHORIZE_REDEMPTION: 'AuthorizeRedemption',
  CAPTURE_HOLD: 'CaptureHold',
} as const;
export type ReversibleOperation = (typeof ReversibleOperation)[keyof typeof ReversibleOperation];

export function reversalNotPossible(message: string, metadata: Record<string, string> = {}): DomainError {
  return new DomainError(ErrorReason.REVERSAL_NOT_POSSIBLE, message, metadata);
}

/** A key whose call was reversed answers this for good: the call, applied or not, stands undone. */
export function operationReversed(): DomainError {
  return new DomainError(
    ErrorReason.OPERATION_REVERSED,
    'the call with this idempotency key was reversed; use a new key for a new call',
  );
}

/** A balance change that undoes one ledger entry. */
export interface Undoing {
  /** The card after the reversal. */
  readonly card: GiftCard;
  /** Signed, as its REVERSAL entry records it. */
  readonly amountMinor: Minor;
}

function assertOf(entry: StoredLedgerEntry, type: EntryType): void {
  if (entry.type !== type) throw new Error(`entry ${entry.publicId} is a ${entry.type}, not a ${type}`);
}

/**
 * Credits back what a redemption (or a capture) took and no refund has given back yet, to the card
 * that holds its money now; after that nothing of it is left to refund. A redemption refunded in
 * full has nothing left to undo.
 */
export function undoRedemption(
  holder: GiftCard,
  redemption: StoredLedgerEntry,
  givenBackMinor: Minor,
  maxBalanceMinor: Minor,
): Undoing {
  assertOf(redemption, EntryType.REDEEM);
  const restMinor = -redemption.amountMinor - givenBackMinor;
  if (restMinor <= 0n) {
    throw reversalNotPossible('the redemption was already refunded in full', { transactionId: redemption.publicId });
  }
  if (!statusAdmits(holder.status, CardUse.REVERSE)) {
    throw reversalNotPossible(`the card holding the redemption's money is ${holder.status}`, { status: holder.status });
  }
  return { card: credit(holder, restMinor, maxBalanceMinor), amountMinor: restMinor };
}

/** Debits a reload back, from the card holding its money now, if its available balance still allows. */
export function undoReload(holder: GiftCard, reload: StoredLedgerEntry): Undoing {
  assertOf(reload, EntryType.RELOAD);
  if (!statusAdmits(holder.status, CardUse.REVERSE)) {
    throw reversalNotPossible(`the card holding the reload's money is ${holder.status}`, { status: holder.status });
  }
  if (availableMinor(holder) < reload.amountMinor) {
    throw reversalNotPossible('the reloaded money is no longer available on the card', {
      availableBalance: availableMinor(holder).toString(),
      reloaded: reload.amountMinor.toString(),
    });
  }
  return {
    card: { ...holder, balanceMinor: holder.balanceMinor - reload.amountMinor },
    amountMinor: -reload.amountMinor,
  };
}

/**
 * Deactivates an issued card and takes back its funding, but only while nothing else has touched
 * it: no ledger entry besides its issue, no hold ever placed. Otherwise undoing the issue would
 * also undo what others did with the card.
 */
export function undoIssue(card: GiftCard, issue: StoredLedgerEntry, touched: boolean): Undoing {
  assertOf(issue, EntryType.ISSUE);
  if (touched || !statusAdmits(card.status, CardUse.REVERSE) || card.balanceMinor !== issue.amountMinor) {
    throw reversalNotPossible('the card was used since it was issued; its issue can no longer be undone', {
      giftCardId: card.publicId,
      status: card.status,
    });
  }
  return { card: { ...card, balanceMinor: 0n, status: CardStatus.DEACTIVATED }, amountMinor: -issue.amountMinor };
}
