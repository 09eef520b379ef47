import { DomainError, ErrorReason } from '../domain/errors';
import { assertStatusAdmits, availableMinor, CardUse, credit } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import { assertSameCurrency, type Minor } from '../domain/money';
import { randomUUID } from 'node:crypto';
import type { GiftCard } from '../domain/gift-card';
import type { StoredLedgerEntry } from '../domain/ledger-entry';
import { lockBalanceHolder } from './balance-holder';
import { runOnce, type IdempotentRequest } from './idempotency';
import { saveAndPost } from './ledger-posting';
import { accepted } from './outcome';
import type { AppContext } from './ports';
import { refundRedemption, type Posted } from './single-card';

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

/** What of the redemption may still be given back; refuses what is no redemption, or asks too much. */
function refundableOf(command: RefundCommand, redemption: StoredLedgerEntry, givenBackMinor: Minor): Minor {
  if (redemption.type !== EntryType.REDEEM) {
    throw new DomainError(ErrorReason.NOT_A_REDEMPTION, `transaction is a ${redemption.type}, not a REDEEM`, {
      entryType: redemption.type,
    });
  }
  assertSameCurrency(redemption.currency, command.currency);
  // A reversal gives back whatever no refund had, so a reversed redemption has nothing left.
  const refundableMinor = -redemption.amountMinor - givenBackMinor;
  if (command.amountMinor > refundableMinor) {
    throw new DomainError(ErrorReason.REFUND_EXCEEDS_REDEMPTION, 'refund exceeds what the redemption took', {
      refundable: refundableMinor.toString(),
      requested: command.amountMinor.toString(),
    });
  }
  return refundableMinor;
}

/** Credits the card that holds the redemption's money now (`holder`), which may be a successor. */
function creditHolder(
  ctx: AppContext,
  command: RefundCommand,
  redemption: StoredLedgerEntry,
  refundableMinor: Minor,
  holder: GiftCard,
  redeemedGiftCardId: string,
  transactionId: string,
): Posted<RefundResult> {
  assertStatusAdmits(holder, CardUse.REFUND);
  const card = credit(holder, command.amountMinor, ctx.limits.maxBalanceMinor);
  return {
    card,
    type: EntryType.REFUND,
    amountMinor: command.amountMinor,
    externalRef: command.sourceTransactionId,
    refundOfEntryId: redemption.id,
    reply: {
      transactionId,
      giftCardId: card.publicId,
      refundedMinor: command.amountMinor,
      balanceMinor: card.balanceMinor,
      availableMinor: availableMinor(card),
      currency: card.currency,
      redeemedGiftCardId,
      redirected: card.id !== redemption.cardId,
      refundableMinor: refundableMinor - command.amountMinor,
    },
  };
}

export function refund(ctx: AppContext, command: RefundCommand): Promise<RefundResult> {
  const { idempotencyKey, ...payload } = command;
  const request = { operation: 'Refund', key: idempotencyKey, payload };
  return refundRedemption(
    ctx,
    request,
    command.redemptionTransactionId,
    (redemption, givenBackMinor, card, _now, transactionId) =>
      creditHolder(
        ctx,
        command,
        redemption,
        refundableOf(command, redemption, givenBackMinor),
        card,
        card.publicId,
        transactionId,
      ),
    () => refundThroughUnitOfWork(ctx, command, request),
  );
}

function refundThroughUnitOfWork(ctx: AppContext, command: RefundCommand, request: IdempotentRequest) {
  return runOnce(ctx, request, async (tx, claim) => {
    // Refunds of one redemption serialize on its entry, so two partial refunds cannot both pass
    // the "never more than was taken" check.
    const redemption = await tx.ledger.lockByPublicId(command.redemptionTransactionId);
    if (redemption === null) {
      throw new DomainError(ErrorReason.TRANSACTION_NOT_FOUND, 'no transaction with that id', {
        transactionId: command.redemptionTransactionId,
      });
    }
    const operationId = await claim();
    const refundableMinor = refundableOf(command, redemption, await tx.ledger.sumGivenBack(redemption.id));
    const { card: holder, now } = await lockBalanceHolder(ctx, tx, redemption.cardId);
    const redeemedCard = holder.id === redemption.cardId ? holder : await tx.cards.findById(redemption.cardId);
    const entryId = randomUUID();
    const posted = creditHolder(
      ctx,
      command,
      redemption,
      refundableMinor,
      holder,
      redeemedCard?.publicId ?? '',
      entryId,
    );
    await saveAndPost(tx, {
      card: posted.card,
      type: posted.type,
      amountMinor: posted.amountMinor,
      operationId,
      publicId: entryId,
      externalRef: posted.externalRef,
      refundOfEntryId: redemption.id,
      now,
    });
    return accepted(posted.reply);
  });
}
