import { DomainError, ErrorReason } from '../domain/errors';
import type { GiftCard } from '../domain/gift-card';
import { AccessRole, type CardAccess, type TransactionScope } from './ports';

/** The answer for a card that does not exist and for one the user has no access to: the same. */
export function unknownCard(giftCardId: string): DomainError {
  return new DomainError(ErrorReason.CARD_NOT_FOUND, 'gift card not found', { giftCardId });
}

/**
 * Checks that the user owns the card, for operations that dispose of it (gift, combine) rather
 * than spend from it. The caller has locked the card: access changes take the same lock, so the
 * answer holds until the transaction ends.
 *
 * No access at all reads as an unknown card, so a guessed id reveals nothing; a user the card is
 * shared with knows it exists, and learns that only its owner may do this.
 */
export async function assertOwnedBy(tx: TransactionScope, card: GiftCard, userId: string): Promise<CardAccess> {
  const access = await tx.access.find(card.id, userId);
  if (access === null) throw unknownCard(card.publicId);
  if (access.role !== AccessRole.OWNER) {
    throw new DomainError(ErrorReason.NOT_CARD_OWNER, 'only the card’s owner may do this; it is shared with you', {
      giftCardId: card.publicId,
    });
  }
  return access;
}
