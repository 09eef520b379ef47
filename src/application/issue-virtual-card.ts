import { CardEventType } from '../domain/card-event';
import { invalidArgument } from '../domain/errors';
import { availableMinor, type CardStatus } from '../domain/gift-card';
import type { Minor } from '../domain/money';
import { walletChanged } from './card-events';
import { runOnce } from './idempotency';
import { issuePurchasedCard } from './new-card';
import { accepted } from './outcome';
import type { AppContext } from './ports';

export interface IssueVirtualCardCommand {
  readonly idempotencyKey: string;
  readonly amountMinor: Minor;
  readonly currency: string;
  readonly sourceTransactionId: string;
  /** Saves the card to this user as its owner at once. */
  readonly userId: string | null;
  readonly expiresAt: Date | null;
}

export interface IssuedCard {
  readonly giftCardId: string;
  readonly cardNumber: string;
  readonly passcode: string;
  readonly balanceMinor: Minor;
  /** A new card has no holds: the whole balance is available. */
  readonly availableMinor: Minor;
  readonly currency: string;
  readonly status: CardStatus;
  readonly transactionId: string;
  readonly expiresAt: Date | null;
}

export function issueVirtualCard(ctx: AppContext, command: IssueVirtualCardCommand): Promise<IssuedCard> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'IssueVirtualCard', key: idempotencyKey, payload }, async (tx, claim) => {
    const operationId = await claim();
    const now = ctx.clock.now();
    if (command.expiresAt !== null && command.expiresAt.getTime() <= now.getTime()) {
      throw invalidArgument([{ field: 'expireTime', description: 'must be in the future' }]);
    }
    const issued = await issuePurchasedCard(ctx, tx, {
      amountMinor: command.amountMinor,
      currency: command.currency,
      expiresAt: command.expiresAt,
      sourceTransactionId: command.sourceTransactionId,
      ownerUserId: command.userId,
      operationId,
      now,
    });
    if (command.userId !== null) {
      tx.outbox.add(walletChanged(CardEventType.SAVED, issued.card, command.userId, operationId, now));
    }
    return accepted({
      giftCardId: issued.card.publicId,
      cardNumber: issued.cardNumber,
      passcode: issued.passcode,
      balanceMinor: issued.card.balanceMinor,
      availableMinor: availableMinor(issued.card),
      currency: issued.card.currency,
      status: issued.card.status,
      transactionId: issued.entry.publicId,
      expiresAt: issued.card.expiresAt,
    });
  });
}
