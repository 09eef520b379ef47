import type { CaptureHoldRequest, CaptureHoldResponse } from '../../../gen/giftcard/v1/holds';
import { captureHold } from '../../application/capture-hold';
import type { AppContext } from '../../application/ports';
import { RequestFields } from '../validation';

export const captureHoldHandler =
  (app: AppContext) =>
  async (request: CaptureHoldRequest): Promise<CaptureHoldResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      holdId: fields.publicId('holdId', request.holdId),
      // Zero (unset) captures the whole hold.
      amountMinor: request.amount === 0n ? null : fields.positiveAmount('amount', request.amount),
    };
    fields.check();
    const result = await captureHold(app, command);
    return {
      transactionId: result.transactionId,
      holdId: result.holdId,
      giftCardId: result.giftCardId,
      capturedAmount: result.capturedMinor,
      releasedAmount: result.releasedMinor,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
    };
  };
