import type { SavedGiftCard } from '../../gen/giftcard/v1/gift_card';
import type { SavedCardView } from '../application/saved-card-view';
import { maskedNumber, roleToProto, statusToProto, timeToProto } from './mappers';

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
