import type { SaveGiftCardRequest, SaveGiftCardResponse } from '../../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../../application/ports';
import { saveGiftCard } from '../../application/save-gift-card';
import { savedGiftCardToProto } from '../mappers';
import { RequestFields } from '../validation';

export const saveGiftCardHandler =
  (app: AppContext) =>
  async (request: SaveGiftCardRequest): Promise<SaveGiftCardResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.optionalIdempotencyKey(request.idempotencyKey),
      userId: fields.userId('userId', request.userId),
      cardNumber: fields.cardNumber('cardNumber', request.cardNumber),
      passcode: fields.passcode('passcode', request.passcode),
    };
    fields.check();
    return { giftCard: savedGiftCardToProto(await saveGiftCard(app, command)) };
  };
