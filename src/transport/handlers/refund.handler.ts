import type { RefundRequest, RefundResponse } from '../../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../../application/ports';
import { refund } from '../../application/refund';
import { MAX_REFERENCE_LENGTH, RequestFields } from '../validation';

export const refundHandler =
  (app: AppContext) =>
  async (request: RefundRequest): Promise<RefundResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      redemptionTransactionId: fields.publicId('transactionId', request.transactionId),
      amountMinor: fields.positiveAmount('amount', request.amount),
      currency: fields.currency('currency', request.currency),
      sourceTransactionId: fields.optionalText(
        'sourceTransactionId',
        request.sourceTransactionId,
        MAX_REFERENCE_LENGTH,
      ),
    };
    fields.check();
    const result = await refund(app, command);
    return {
      transactionId: result.transactionId,
      giftCardId: result.giftCardId,
      refundedAmount: result.refundedMinor,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
      redeemedGiftCardId: result.redeemedGiftCardId,
      redirected: result.redirected,
      refundableAmount: result.refundableMinor,
    };
  };
