import type { ReloadRequest, ReloadResponse } from '../../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../../application/ports';
import { reload } from '../../application/reload';
import { MAX_REFERENCE_LENGTH, RequestFields } from '../validation';

export const reloadHandler =
  (app: AppContext) =>
  async (request: ReloadRequest): Promise<ReloadResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      card: fields.cardReference(request),
      amountMinor: fields.positiveAmount('amount', request.amount),
      currency: fields.currency('currency', request.currency),
      sourceTransactionId: fields.text('sourceTransactionId', request.sourceTransactionId, MAX_REFERENCE_LENGTH),
    };
    fields.check();
    const result = await reload(app, command);
    return {
      transactionId: result.transactionId,
      giftCardId: result.giftCardId,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
    };
  };
