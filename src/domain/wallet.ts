import { DomainError, ErrorReason } from './errors';

/**
 * Users one card may be shared with besides its owner. Every share is a person who can spend the
 * balance, so an unbounded list is a risk, not a feature; a household or a team fits well within it.
 */
export const MAX_SHARES_PER_CARD = 50;

/** Sharing with (or unsharing from) oneself is malformed input: the owner already has full access. */
export function assertNotSelf(userId: string, recipientUserId: string): void {
  if (userId === recipientUserId) {
    throw new DomainError(ErrorReason.CANNOT_SHARE_WITH_SELF, 'the recipient must be another user than the owner', {}, [
      { field: 'recipientUserId', description: 'must differ from userId' },
    ]);
  }
}

export function assertShareCapacity(currentShares: number): void {
  if (currentShares >= MAX_SHARES_PER_CARD) {
    throw new DomainError(ErrorReason.SHARE_LIMIT_REACHED, 'the card is shared with the maximum number of users', {
      maxShares: MAX_SHARES_PER_CARD.toString(),
    });
  }
}

/** Saving never takes a card over: the owner keeps it, and who that is stays undisclosed. */
export function cardOwnedByAnotherUser(): DomainError {
  return new DomainError(ErrorReason.CARD_OWNED_BY_ANOTHER_USER, 'the card is saved by another user');
}

/** A user with shared access may spend from the card but not dispose of it or manage who else may. */
export function notCardOwner(giftCardId: string): DomainError {
  return new DomainError(ErrorReason.NOT_CARD_OWNER, 'only the card’s owner may do this; it is shared with you', {
    giftCardId,
  });
}
