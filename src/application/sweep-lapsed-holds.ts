import { settleLocked } from './lapsed-holds';
import type { AppContext } from './ports';

/**
 * Cards settled per sweep. Each card is its own short transaction holding one card lock, so a
 * backlog (after an outage, say) drains over several sweeps without crowding out live calls.
 */
export const SWEEP_BATCH_CARDS = 100;

/**
 * Records as expired the holds that passed their expire time on cards nobody has touched since.
 * Nothing depends on it for correctness: a hold stops counting at its expire time on every read,
 * and whoever locks a card next settles it anyway. It keeps idle cards' histories and the
 * ACTIVE holds in storage current. Returns how many holds it recorded as expired.
 */
export async function sweepLapsedHolds(ctx: AppContext, batchCards = SWEEP_BATCH_CARDS): Promise<number> {
  const cardIds = await ctx.uow.reads.holds.findCardsWithLapsedHolds(ctx.clock.now(), batchCards);
  let expired = 0;
  for (const cardId of cardIds) {
    expired += await ctx.uow.run(async (tx) => {
      const card = await tx.cards.lockById(cardId);
      if (card === null) throw new Error(`card ${cardId} of a lapsed hold is not stored`);
      const settled = await settleLocked(ctx, tx, card);
      return card.holds.count - settled.card.holds.count;
    });
  }
  return expired;
}
