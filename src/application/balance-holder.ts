import { settleLocked, type LockedCard } from './lapsed-holds';
import type { AppContext, TransactionScope } from './ports';

/** A chain longer than this is a cycle, which the schema's successor links should never form. */
const MAX_SUCCESSOR_HOPS = 64;

/**
 * Locks (and settles) the card that holds what was once on the given card: the card itself, or the
 * card it was combined or transferred into, and so on. The chain is walked with plain reads and
 * only its end is locked, so no lock is taken out of ascending order; if the end moved on while
 * we waited for its lock, the walk goes on from there.
 */
export async function lockBalanceHolder(ctx: AppContext, tx: TransactionScope, cardId: bigint): Promise<LockedCard> {
  let id = cardId;
  for (let hop = 0; hop < MAX_SUCCESSOR_HOPS; hop++) {
    const seen = await tx.cards.findById(id);
    if (seen === null) throw new Error(`card ${id} vanished from its successor chain`);
    if (seen.successorCardId !== null) {
      id = seen.successorCardId;
      continue;
    }
    const locked = await tx.cards.lockById(id);
    if (locked === null) throw new Error(`card ${id} vanished while being locked`);
    if (locked.successorCardId === null) return settleLocked(ctx, tx, locked);
    id = locked.successorCardId;
  }
  throw new Error(`successor chain from card ${cardId} is longer than ${MAX_SUCCESSOR_HOPS}`);
}
