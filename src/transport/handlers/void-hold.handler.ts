import type { VoidHoldRequest, VoidHoldResponse } from '../../../gen/giftcard/v1/holds';
import type { AppContext } from '../../application/ports';
import { voidHold } from '../../application/void-hold';
import { RequestFields } from '../validation';

export const voidHoldHandler =
  (app: AppContext) =>
  async (request: VoidHoldRequest): Promise<VoidHoldResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      holdId: fields.publicId('holdId', request.holdId),
    };
    fields.check();
    const result = await voidHold(app, command);
    return {
      holdId: result.holdId,
      giftCardId: result.giftCardId,
      releasedAmount: result.releasedMinor,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
    };
  };
