import { cardNotFound, DomainError, ErrorReason } from '../domain/errors';
import { runOnce } from './idempotency';
import { accepted } from './outcome';
import { PreferredCardTaken, type AppContext, type TransactionScope } from './ports';
import { savedCardView, type SavedCardView } from './saved-card-view';

export interface UpdateGiftCardCommand {
  readonly idempotencyKey: string | null;
  /** The owner or a user the card is shared with: each user has their own preferred card. */
  readonly userId: string;
  readonly giftCardId: string;
  /** Null when the caller left it out: nothing changes (AIP-134), the card is returned as it is. */
  readonly preferred: boolean | null;
}

/**
 * Sets or clears the user's preferred flag on one of their cards (SPEC §4.12). Setting it clears
 * the flag on the user's other card in the same database transaction: a user has at most one.
 * A request without the flag changes nothing and answers with the card as it is.
 */
export function updateGiftCard(ctx: AppContext, command: UpdateGiftCardCommand): Promise<SavedCardView> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'UpdateGiftCard', key: idempotencyKey, payload }, async (tx, claim) => {
    // Lock all of the user's access rows first: concurrent calls for different cards of one user
    // then run one after another, each seeing (and clearing) the preferred card the last one set.
    const held = await tx.access.lockAllOfUser(command.userId);
    const card = await tx.cards.findByPublicId(command.giftCardId);
    const access = card === null ? undefined : held.find((row) => row.cardId === card.id);
    if (card === null || access === undefined) throw cardNotFound();
    await claim();
    const preferred = command.preferred ?? access.preferred;
    if (preferred) {
      for (const other of held) {
        if (other.preferred && other.cardId !== card.id) await setPreferred(tx, other.cardId, command.userId, false);
      }
    }
    if (access.preferred !== preferred) await setPreferred(tx, card.id, command.userId, preferred);
    return accepted(savedCardView({ card, access: { ...access, preferred } }));
  });
}

async function setPreferred(tx: TransactionScope, cardId: bigint, userId: string, preferred: boolean): Promise<void> {
  try {
    await tx.access.setPreferred(cardId, userId, preferred);
  } catch (error) {
    // The one-preferred-card unique key is the backstop behind the user lock: a path that set a
    // flag without that lock makes this call lose a race, which a retry resolves.
    if (error instanceof PreferredCardTaken) {
      throw new DomainError(ErrorReason.CONCURRENCY_CONFLICT, 'another preferred card was set at the same time; retry');
    }
    throw error;
  }
}
