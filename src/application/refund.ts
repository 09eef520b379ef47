import { DomainError, ErrorReason } from '../domain/errors';
import { assertActive, availableMinor, credit } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import { assertSameCurrency, type Minor } from '../domain/money';
import { lockBalanceHolder } from './balance-holder';
import { runOnce } from './idempotency';
import { saveAndPost } from './ledger-posting';
import { accepted } from './outcome';
import type { AppContext } from './ports';

export interface RefundCommand {
  readonly idempotencyKey: string;
  /** The public id of the redemption's ledger entry. */
  readonly redemptionTransactionId: string;
  readonly amountMinor: Minor;
  readonly currency: string;
  readonly sourceTransactionId: string | null;
}

export interface RefundResult {
  readonly transactionId: string;
  readonly giftCardId: string;
  readonly refundedMinor: Minor;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
  readonly redeemedGiftCardId: string;
  /** The redeemed card had passed its balance on, and the refund followed it. */
  readonly redirected: boolean;
  readonly refundableMinor: Minor;
}

export function refund(ctx: AppContext, command: RefundCommand): Promise<RefundResult> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'Refund', key: idempotencyKey, payload }, async (tx, claim) => {
    // Refunds of one redemption serialize on its entry, so two partial refunds cannot both pass
    // the "never more than was taken" check.
    const redemption = await tx.ledger.lockByPublicId(command.redemptionTransactionId);
    if (redemption === null) {
      throw new DomainError(ErrorReason.TRANSACTION_NOT_FOUND, 'no transaction with that id', {
        transactionId: command.redemptionTransactionId,
      });
    }
    const operationId = await claim();
    if (redemption.type !== EntryType.REDEEM) {
      throw new DomainError(ErrorReason.NOT_A_REDEMPTION, `transaction is a ${redemption.type}, not a REDEEM`, {
        entryType: redemption.type,
      });
    }
    assertSameCurrency(redemption.currency, command.currency);
    // A reversal gives back whatever no refund had, so a reversed redemption has nothing left.
    const refundableMinor = -redemption.amountMinor - (await tx.ledger.sumGivenBack(redemption.id));
    if (command.amountMinor > refundableMinor) {
      throw new DomainError(ErrorReason.REFUND_EXCEEDS_REDEMPTION, 'refund exceeds what the redemption took', {
        refundable: refundableMinor.toString(),
        requested: command.amountMinor.toString(),
      });
    }
    const { card: holder, now } = await lockBalanceHolder(ctx, tx, redemption.cardId);
    assertActive(holder);
    const card = credit(holder, command.amountMinor, ctx.limits.maxBalanceMinor);
    const entry = await saveAndPost(tx, {
      card,
      type: EntryType.REFUND,
      amountMinor: command.amountMinor,
      operationId,
      externalRef: command.sourceTransactionId,
      refundOfEntryId: redemption.id,
      now,
    });
    const redeemedCard = card.id === redemption.cardId ? card : await tx.cards.findById(redemption.cardId);
    return accepted({
      transactionId: entry.publicId,
      giftCardId: card.publicId,
      refundedMinor: command.amountMinor,
      balanceMinor: card.balanceMinor,
      availableMinor: availableMinor(card),
      currency: card.currency,
      redeemedGiftCardId: redeemedCard?.publicId ?? '',
      redirected: card.id !== redemption.cardId,
      refundableMinor: refundableMinor - command.amountMinor,
    });
  });
}
