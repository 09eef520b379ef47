import type { BlockCardRequest, BlockCardResponse } from '../../../gen/giftcard/v1/card_lifecycle';
import { blockCard } from '../../application/block-card';
import type { AppContext } from '../../application/ports';
import { statusToProto } from '../mappers';
import { MAX_STATUS_REASON_LENGTH, RequestFields } from '../validation';

export const blockCardHandler =
  (app: AppContext) =>
  async (request: BlockCardRequest): Promise<BlockCardResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.optionalIdempotencyKey(request.idempotencyKey),
      giftCardId: fields.publicId('giftCardId', request.giftCardId),
      reason: fields.text('reason', request.reason, MAX_STATUS_REASON_LENGTH),
    };
    fields.check();
    const result = await blockCard(app, command);
    return {
      giftCardId: result.giftCardId,
      status: statusToProto(result.status),
      blockReason: result.blockReason,
      blockTime: result.blockedAt,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
    };
  };
