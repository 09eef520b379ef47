import { cardNotFound } from '../domain/errors';
import type { GiftCard } from '../domain/gift-card';
import { notCardOwner } from '../domain/wallet';
import { AccessRole, type TransactionScope } from './ports';

/**
 * Locks a card its owner names by public id, for changes to who may use it. The card row lock is
 * the same one every spending operation takes before it checks access, so a share or a revocation
 * lands wholly before or wholly after any redemption on the card.
 *
 * No access at all is answered exactly like an unknown card; shared access, which proves the card
 * exists to this user anyway, is answered with what is missing: ownership.
 */
export async function lockOwnedCard(tx: TransactionScope, giftCardId: string, userId: string): Promise<GiftCard> {
  const card = await tx.cards.lockByPublicId(giftCardId);
  const access = card === null ? null : await tx.access.find(card.id, userId);
  if (card === null || access === null) throw cardNotFound();
  if (access.role !== AccessRole.OWNER) throw notCardOwner();
  return card;
}
