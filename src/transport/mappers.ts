import { GiftCardRole, GiftCardStatus, type SavedGiftCard } from '../../gen/giftcard/v1/gift_card';
import { maskCardNumber } from '../domain/card-number';
import { CardStatus } from '../domain/gift-card';
import { AccessRole } from '../application/ports';
import type { SavedCardView } from '../application/saved-card-view';

const STATUS_TO_PROTO: Readonly<Record<CardStatus, GiftCardStatus>> = {
  [CardStatus.ACTIVE]: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
  [CardStatus.DEACTIVATED]: GiftCardStatus.GIFT_CARD_STATUS_DEACTIVATED,
  [CardStatus.COMBINED]: GiftCardStatus.GIFT_CARD_STATUS_COMBINED,
  [CardStatus.BLOCKED]: GiftCardStatus.GIFT_CARD_STATUS_BLOCKED,
};

const ROLE_TO_PROTO: Readonly<Record<AccessRole, GiftCardRole>> = {
  [AccessRole.OWNER]: GiftCardRole.GIFT_CARD_ROLE_OWNER,
  [AccessRole.SHARED]: GiftCardRole.GIFT_CARD_ROLE_SHARED,
};

export const statusToProto = (status: CardStatus): GiftCardStatus => STATUS_TO_PROTO[status];
export const roleToProto = (role: AccessRole): GiftCardRole => ROLE_TO_PROTO[role];
export const maskedNumber = (last4: string): string => maskCardNumber(last4);
/** Unset timestamps stay unset on the wire rather than becoming the epoch. */
export const timeToProto = (time: Date | null): Date | undefined => time ?? undefined;

/** A card as a user's wallet shows it: masked number, the user's role and preferred flag. */
export function savedGiftCardToProto(view: SavedCardView): SavedGiftCard {
  return {
    giftCardId: view.giftCardId,
    maskedCardNumber: maskedNumber(view.numberLast4),
    balance: view.balanceMinor,
    currency: view.currency,
    status: statusToProto(view.status),
    role: roleToProto(view.role),
    preferred: view.preferred,
    expireTime: timeToProto(view.expiresAt),
  };
}
