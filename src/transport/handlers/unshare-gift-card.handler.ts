import type { UnshareGiftCardRequest, UnshareGiftCardResponse } from '../../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../../application/ports';
import { unshareGiftCard } from '../../application/unshare-gift-card';
import { RequestFields } from '../validation';

export const unshareGiftCardHandler =
  (app: AppContext) =>
  async (request: UnshareGiftCardRequest): Promise<UnshareGiftCardResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.optionalIdempotencyKey(request.idempotencyKey),
      userId: fields.userId('userId', request.userId),
      giftCardId: fields.publicId('giftCardId', request.giftCardId),
      recipientUserId: fields.userId('recipientUserId', request.recipientUserId),
    };
    fields.check();
    return unshareGiftCard(app, command);
  };
