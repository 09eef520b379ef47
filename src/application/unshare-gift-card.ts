import { CardEventType } from '../domain/card-event';
import { assertNotSelf } from '../domain/wallet';
import { walletChanged } from './card-events';
import { runOnce } from './idempotency';
import { accepted } from './outcome';
import { lockOwnedCard } from './card-ownership';
import type { AppContext } from './ports';

export interface UnshareGiftCardCommand {
  readonly idempotencyKey: string | null;
  /** The owner, who takes access back. */
  readonly userId: string;
  readonly giftCardId: string;
  readonly recipientUserId: string;
}

export interface UnshareResult {
  readonly giftCardId: string;
  readonly recipientUserId: string;
}

/**
 * Takes back access the owner granted. The outcome is a state ("this user has no access"), so
 * revoking a share that is already gone succeeds too, and a retry after a lost answer is safe.
 * The recipient's preferred flag on the card goes with its access row.
 */
export async function unshareGiftCard(ctx: AppContext, command: UnshareGiftCardCommand): Promise<UnshareResult> {
  assertNotSelf(command.userId, command.recipientUserId);
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'UnshareGiftCard', key: idempotencyKey, payload }, async (tx, claim) => {
    // Under the card lock: a redemption by the recipient already past its access check finishes
    // first, and every one after this commits is refused.
    const card = await lockOwnedCard(tx, command.giftCardId, command.userId);
    const operationId = await claim();
    if (await tx.access.remove(card.id, command.recipientUserId)) {
      tx.outbox.add(walletChanged(CardEventType.UNSHARED, card, command.recipientUserId, operationId, ctx.clock.now()));
    }
    return accepted({ giftCardId: card.publicId, recipientUserId: command.recipientUserId });
  });
}
