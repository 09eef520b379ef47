import { CardEventType } from '../domain/card-event';
import { cardOwnedByAnotherUser } from '../domain/wallet';
import { walletChanged } from './card-events';
import { lockReferencedCard } from './card-reference';
import { runOnce } from './idempotency';
import { accepted, rejected } from './outcome';
import { AccessRole, CardAlreadyOwned, type AppContext, type CardAccess } from './ports';
import { savedCardView, type SavedCardView } from './saved-card-view';

export interface SaveGiftCardCommand {
  /** Optional for saving (SPEC §5): without one, saving again is still harmless. */
  readonly idempotencyKey: string | null;
  readonly userId: string;
  readonly cardNumber: string;
  readonly passcode: string;
}

/**
 * Makes the user the card's owner (SPEC §4.7). The credentials are checked, with lockout, exactly
 * as for spending. The owner saving again gets the same answer; a card owned by someone else is
 * never taken over; a user the card was shared with becomes its owner only if it has none.
 */
export function saveGiftCard(ctx: AppContext, command: SaveGiftCardCommand): Promise<SavedCardView> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'SaveGiftCard', key: idempotencyKey, payload }, async (tx, claim) => {
    // The card row lock serializes every change of who may use the card: of two users saving the
    // same card at once, the second sees the first as its owner.
    const located = await lockReferencedCard(ctx, tx, {
      kind: 'credentials',
      cardNumber: command.cardNumber,
      passcode: command.passcode,
    });
    if (!located.ok) return rejected(located.error);
    const { card } = located.value;
    const owner = await tx.access.findOwner(card.id);
    // Returned, not thrown: the right passcode was given, and resetting the card's count of wrong
    // ones must commit even though the save is refused.
    if (owner !== null && owner.userId !== command.userId) return rejected(cardOwnedByAnotherUser());
    const operationId = await claim();
    if (owner !== null) return accepted(savedCardView({ card, access: owner }));
    const share = await tx.access.find(card.id, command.userId);
    const access: CardAccess = {
      cardId: card.id,
      userId: command.userId,
      role: AccessRole.OWNER,
      preferred: share?.preferred ?? false,
    };
    const now = ctx.clock.now();
    try {
      if (share === null) await tx.access.insert(access, now);
      else await tx.access.setRole(card.id, command.userId, AccessRole.OWNER);
    } catch (error) {
      // The one-owner unique key is the backstop should any path change owners without the lock.
      if (error instanceof CardAlreadyOwned) throw cardOwnedByAnotherUser();
      throw error;
    }
    tx.outbox.add(walletChanged(CardEventType.SAVED, card, command.userId, operationId, now));
    return accepted(savedCardView({ card, access }));
  });
}
