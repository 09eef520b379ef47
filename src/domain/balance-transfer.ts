import { DomainError, ErrorReason, invalidArgument } from './errors';
import {
  assertNoHoldsOutstanding,
  assertSpendable,
  availableMinor,
  CardUse,
  insufficientFunds,
  type GiftCard,
} from './gift-card';
import { assertSameCurrency, type Minor } from './money';

export interface TransferTerms {
  /** With deleteSource, zero means "the whole balance"; otherwise the amount to move, above zero. */
  readonly amountMinor: Minor;
  readonly currency: string;
  /** Move everything and deactivate the source. */
  readonly deleteSource: boolean;
}

/**
 * How much a balance transfer takes off the source card. A plain transfer spends from the
 * available balance. Deleting the source must move the whole balance, exactly: a smaller amount
 * would strand money on a card nobody can use any more, so it is refused rather than rounded up,
 * and a card with active holds cannot be deleted, since its holds were promised that money.
 */
export function transferAmount(source: GiftCard, terms: TransferTerms, now: Date): Minor {
  assertSpendable(source, now, CardUse.TRANSFER);
  assertSameCurrency(source.currency, terms.currency);
  if (!terms.deleteSource) {
    if (terms.amountMinor <= 0n) throw invalidArgument([{ field: 'amount', description: 'must be greater than zero' }]);
    if (terms.amountMinor > availableMinor(source)) throw insufficientFunds(source, terms.amountMinor);
    return terms.amountMinor;
  }
  assertNoHoldsOutstanding(source);
  // An empty card has nothing to move, and a new card with nothing on it is no transfer.
  if (source.balanceMinor === 0n) throw insufficientFunds(source, terms.amountMinor);
  if (terms.amountMinor !== 0n && terms.amountMinor !== source.balanceMinor) {
    throw new DomainError(
      ErrorReason.TRANSFER_AMOUNT_MISMATCH,
      'deleting the source card moves its whole balance; omit amount or send the whole balance',
      { balance: source.balanceMinor.toString(), requested: terms.amountMinor.toString() },
    );
  }
  return source.balanceMinor;
}
