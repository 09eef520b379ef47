import type { ShareGiftCardRequest, ShareGiftCardResponse } from '../../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../../application/ports';
import { shareGiftCard } from '../../application/share-gift-card';
import { roleToProto } from '../mappers';
import { RequestFields } from '../validation';

export const shareGiftCardHandler =
  (app: AppContext) =>
  async (request: ShareGiftCardRequest): Promise<ShareGiftCardResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.optionalIdempotencyKey(request.idempotencyKey),
      userId: fields.userId('userId', request.userId),
      giftCardId: fields.publicId('giftCardId', request.giftCardId),
      recipientUserId: fields.userId('recipientUserId', request.recipientUserId),
    };
    fields.check();
    const shared = await shareGiftCard(app, command);
    return {
      giftCardId: shared.giftCardId,
      recipientUserId: shared.recipientUserId,
      role: roleToProto(shared.role),
    };
  };
