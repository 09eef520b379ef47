import { CardEventType } from '../domain/card-event';
import { assertNotSelf, assertShareCapacity } from '../domain/wallet';
import { walletChanged } from './card-events';
import { runOnce } from './idempotency';
import { accepted } from './outcome';
import { lockOwnedCard } from './card-ownership';
import { AccessRole, type AppContext } from './ports';

export interface ShareGiftCardCommand {
  readonly idempotencyKey: string | null;
  /** The owner, who shares. */
  readonly userId: string;
  readonly giftCardId: string;
  readonly recipientUserId: string;
}

export interface ShareResult {
  readonly giftCardId: string;
  readonly recipientUserId: string;
  readonly role: AccessRole;
}

/**
 * Grants another user equal access to spend and inquire (SPEC §4.8). Only the owner shares, never
 * with themself; sharing again with the same user changes nothing and answers the same.
 */
export async function shareGiftCard(ctx: AppContext, command: ShareGiftCardCommand): Promise<ShareResult> {
  assertNotSelf(command.userId, command.recipientUserId);
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'ShareGiftCard', key: idempotencyKey, payload }, async (tx, claim) => {
    const card = await lockOwnedCard(tx, command.giftCardId, command.userId);
    const operationId = await claim();
    const existing = await tx.access.find(card.id, command.recipientUserId);
    if (existing === null) {
      // Counted under the card lock, so parallel shares cannot together pass the limit.
      assertShareCapacity(await tx.access.countShares(card.id));
      const now = ctx.clock.now();
      await tx.access.insert(
        { cardId: card.id, userId: command.recipientUserId, role: AccessRole.SHARED, preferred: false },
        now,
      );
      tx.outbox.add(walletChanged(CardEventType.SHARED, card, command.recipientUserId, operationId, now));
    }
    return accepted({
      giftCardId: card.publicId,
      recipientUserId: command.recipientUserId,
      role: existing?.role ?? AccessRole.SHARED,
    });
  });
}
