import { currentCallerName } from '../call-caller';
import { unblock } from '../domain/card-lifecycle';
import { cardNotFound } from '../domain/errors';
import { availableMinor, type CardStatus } from '../domain/gift-card';
import type { Minor } from '../domain/money';
import { statusChanged } from './card-events';
import { runOnce } from './idempotency';
import { settleLocked } from './lapsed-holds';
import { accepted } from './outcome';
import type { AppContext } from './ports';

export interface UnblockCardCommand {
  readonly idempotencyKey: string | null;
  readonly giftCardId: string;
  readonly reason: string;
}

export interface UnblockedCard {
  readonly giftCardId: string;
  readonly status: CardStatus;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
}

/** An operator lets a blocked card move money again; the unblock and its reason are kept like the block. */
export function unblockCard(ctx: AppContext, command: UnblockCardCommand): Promise<UnblockedCard> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'UnblockCard', key: idempotencyKey, payload }, async (tx, claim) => {
    const row = await tx.cards.lockByPublicId(command.giftCardId);
    if (row === null) throw cardNotFound();
    const operationId = await claim();
    const { card, now } = await settleLocked(ctx, tx, row);
    const unblocked = unblock(card);
    if (unblocked !== null) {
      await tx.cards.save(unblocked, now);
      await tx.lifecycle.recordStatusChange({
        cardId: card.id,
        status: unblocked.status,
        reason: command.reason,
        caller: currentCallerName(),
        operationId,
        at: now,
      });
      tx.outbox.add(statusChanged(unblocked, operationId, now));
    }
    const current = unblocked ?? card;
    return accepted({
      giftCardId: current.publicId,
      status: current.status,
      balanceMinor: current.balanceMinor,
      availableMinor: availableMinor(current),
      currency: current.currency,
    });
  });
}
