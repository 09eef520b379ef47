import type { CardStatus } from '../domain/gift-card';
import type { Minor } from '../domain/money';
import type { AccessRole, SavedCard } from './ports';

/** A card as one user sees it in their wallet: never the number (last four only), never a secret. */
export interface SavedCardView {
  readonly giftCardId: string;
  readonly numberLast4: string;
  readonly balanceMinor: Minor;
  readonly currency: string;
  readonly status: CardStatus;
  readonly role: AccessRole;
  readonly preferred: boolean;
  readonly expiresAt: Date | null;
}

export function savedCardView({ card, access }: SavedCard): SavedCardView {
  return {
    giftCardId: card.publicId,
    numberLast4: card.numberLast4,
    balanceMinor: card.balanceMinor,
    currency: card.currency,
    status: card.status,
    role: access.role,
    preferred: access.preferred,
    expiresAt: card.expiresAt,
  };
}
