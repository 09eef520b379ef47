import { holdNotFound, type Hold } from '../domain/hold';
import { settleLocked, type LockedCard } from './lapsed-holds';
import type { AppContext, TransactionScope } from './ports';

/** A hold with its card locked and settled, and the card's open holds as they are now. */
export interface HeldCard extends LockedCard {
  readonly hold: Hold;
  readonly open: readonly Hold[];
}

/**
 * Locks the card a hold is on and reads the hold as it is under that lock, which every change to a
 * hold takes. The first read only finds the card: a hold never moves to another card.
 */
export async function lockHeldCard(ctx: AppContext, tx: TransactionScope, holdId: string): Promise<HeldCard> {
  const seen = await tx.holds.findByPublicId(holdId);
  if (seen === null) throw holdNotFound(holdId);
  const row = await tx.cards.lockById(seen.cardId);
  if (row === null) throw new Error(`card ${seen.cardId} of hold ${holdId} is not stored`);
  const { card, now } = await settleLocked(ctx, tx, row);
  const open = await tx.holds.listOpen(card.id);
  // Not open any more: read its closing (by another call, or by the settling just now).
  const hold = open.find((candidate) => candidate.id === seen.id) ?? (await tx.holds.findByPublicId(holdId)) ?? seen;
  return { card, now, hold, open };
}
