import type { UnblockCardRequest, UnblockCardResponse } from '../../../gen/giftcard/v1/card_lifecycle';
import type { AppContext } from '../../application/ports';
import { unblockCard } from '../../application/unblock-card';
import { statusToProto } from '../mappers';
import { MAX_STATUS_REASON_LENGTH, RequestFields } from '../validation';

export const unblockCardHandler =
  (app: AppContext) =>
  async (request: UnblockCardRequest): Promise<UnblockCardResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.optionalIdempotencyKey(request.idempotencyKey),
      giftCardId: fields.publicId('giftCardId', request.giftCardId),
      reason: fields.text('reason', request.reason, MAX_STATUS_REASON_LENGTH),
    };
    fields.check();
    const result = await unblockCard(app, command);
    return {
      giftCardId: result.giftCardId,
      status: statusToProto(result.status),
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
    };
  };
