import { cardNotFound } from '../domain/errors';
import type { GiftCard } from '../domain/gift-card';
import { notCardOwner } from '../domain/wallet';
import { AccessRole, type CardAccess, type TransactionScope } from './ports';

/**
 * Checks that the user owns the card, for operations that dispose of it (gift, combine) or manage
 * who may use it (share, unshare) rather than spend from it. The caller has locked the card: access
 * changes take the same lock, so the answer holds until the transaction ends.
 *
 * No access at all reads as an unknown card, so a guessed id reveals nothing; a user the card is
 * shared with knows it exists, and learns that only its owner may do this.
 */
export async function assertOwnedBy(tx: TransactionScope, card: GiftCard, userId: string): Promise<CardAccess> {
  const access = await tx.access.find(card.id, userId);
  if (access === null) throw cardNotFound();
  if (access.role !== AccessRole.OWNER) throw notCardOwner(card.publicId);
  return access;
}

/**
 * Locks a card its owner names by public id. The card row lock is the same one every spending
 * operation takes before it checks access, so a share or a revocation lands wholly before or
 * wholly after any redemption on the card.
 */
export async function lockOwnedCard(tx: TransactionScope, giftCardId: string, userId: string): Promise<GiftCard> {
  const card = await tx.cards.lockByPublicId(giftCardId);
  if (card === null) throw cardNotFound();
  await assertOwnedBy(tx, card, userId);
  return card;
}
