import { randomUUID } from 'node:crypto';
import { invalidArgument } from '../domain/errors';
import type { CardStatus } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import { assertWithinMaximum, type Minor } from '../domain/money';
import { runOnce } from './idempotency';
import { post } from './ledger-posting';
import { createCard } from './new-card';
import { accepted } from './outcome';
import { AccessRole, type AppContext } from './ports';

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
  readonly currency: string;
  readonly status: CardStatus;
  readonly transactionId: string;
  readonly expiresAt: Date | null;
}

export function issueVirtualCard(ctx: AppContext, command: IssueVirtualCardCommand): Promise<IssuedCard> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'IssueVirtualCard', key: idempotencyKey, payload }, async (tx, claim) => {
    await claim();
    const now = ctx.clock.now();
    if (command.expiresAt !== null && command.expiresAt.getTime() <= now.getTime()) {
      throw invalidArgument([{ field: 'expire_time', description: 'must be in the future' }]);
    }
    assertWithinMaximum(command.amountMinor, ctx.limits.maxBalanceMinor);
    const created = await createCard(ctx, tx, {
      currency: command.currency,
      expiresAt: command.expiresAt,
      balanceMinor: command.amountMinor,
    });
    const entry = await post(tx, {
      card: created.card,
      type: EntryType.ISSUE,
      amountMinor: command.amountMinor,
      operationId: randomUUID(),
      externalRef: command.sourceTransactionId,
      now,
    });
    if (command.userId !== null) {
      await tx.access.insert(
        { cardId: created.card.id, userId: command.userId, role: AccessRole.OWNER, preferred: false },
        now,
      );
    }
    return accepted({
      giftCardId: created.card.publicId,
      cardNumber: created.cardNumber,
      passcode: created.passcode,
      balanceMinor: created.card.balanceMinor,
      currency: created.card.currency,
      status: created.card.status,
      transactionId: entry.publicId,
      expiresAt: created.card.expiresAt,
    });
  });
}
