import type { UpdateGiftCardRequest, UpdateGiftCardResponse } from '../../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../../application/ports';
import { updateGiftCard } from '../../application/update-gift-card';
import { savedGiftCardToProto } from '../mappers';
import { RequestFields } from '../validation';

export const updateGiftCardHandler =
  (app: AppContext) =>
  async (request: UpdateGiftCardRequest): Promise<UpdateGiftCardResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.optionalIdempotencyKey(request.idempotencyKey),
      userId: fields.userId('userId', request.userId),
      giftCardId: fields.publicId('giftCardId', request.giftCardId),
      preferred: request.preferred ?? null,
    };
    fields.check();
    return { giftCard: savedGiftCardToProto(await updateGiftCard(app, command)) };
  };
