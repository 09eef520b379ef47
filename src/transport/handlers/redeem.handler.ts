import type { RedeemRequest, RedeemResponse } from '../../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../../application/ports';
import { redeem } from '../../application/redeem';
import { MAX_REFERENCE_LENGTH, RequestFields } from '../validation';

export const redeemHandler =
  (app: AppContext) =>
  async (request: RedeemRequest): Promise<RedeemResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      card: fields.cardReference(request),
      amountMinor: fields.positiveAmount('amount', request.amount),
      currency: fields.currency('currency', request.currency),
      orderId: fields.optionalText('orderId', request.orderId, MAX_REFERENCE_LENGTH),
      allowPartial: request.allowPartial,
    };
    fields.check();
    const result = await redeem(app, command);
    return {
      transactionId: result.transactionId,
      giftCardId: result.giftCardId,
      redeemedAmount: result.redeemedMinor,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
      partial: result.partial,
    };
  };
