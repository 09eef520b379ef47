import { currentCallerName } from '../call-caller';
import { block } from '../domain/card-lifecycle';
import { cardNotFound } from '../domain/errors';
import { availableMinor, type CardStatus } from '../domain/gift-card';
import type { Minor } from '../domain/money';
import { statusChanged } from './card-events';
import { runOnce } from './idempotency';
import { settleLocked } from './lapsed-holds';
import { accepted } from './outcome';
import type { AppContext } from './ports';

export interface BlockCardCommand {
  readonly idempotencyKey: string | null;
  readonly giftCardId: string;
  readonly reason: string;
}

export interface BlockedCard {
  readonly giftCardId: string;
  readonly status: CardStatus;
  /** The reason the card is blocked under: this call's, or the earlier block's it found. */
  readonly blockReason: string;
  readonly blockedAt: Date;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
}

/**
 * An operator stops a card (SPEC §10), e.g. reported stolen. Under the card's row lock, like every
 * change to it, so a redemption in flight lands wholly before the block or is refused after it.
 */
export function blockCard(ctx: AppContext, command: BlockCardCommand): Promise<BlockedCard> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'BlockCard', key: idempotencyKey, payload }, async (tx, claim) => {
    const row = await tx.cards.lockByPublicId(command.giftCardId);
    if (row === null) throw cardNotFound();
    const operationId = await claim();
    const { card, now } = await settleLocked(ctx, tx, row);
    const blocked = block(card);
    if (blocked !== null) {
      await tx.cards.save(blocked, now);
      await tx.lifecycle.recordStatusChange({
        cardId: card.id,
        status: blocked.status,
        reason: command.reason,
        caller: currentCallerName(),
        operationId,
        at: now,
      });
      tx.outbox.add(statusChanged(blocked, operationId, now));
    }
    const kept = await tx.lifecycle.findBlock(card.id);
    // A BLOCKED card without its block row would be a card nobody could say why it is stopped.
    if (kept === null) throw new Error(`card ${card.publicId} is BLOCKED with no block recorded`);
    const current = blocked ?? card;
    return accepted({
      giftCardId: current.publicId,
      status: current.status,
      blockReason: kept.reason,
      blockedAt: kept.since,
      balanceMinor: current.balanceMinor,
      availableMinor: availableMinor(current),
      currency: current.currency,
    });
  });
}
