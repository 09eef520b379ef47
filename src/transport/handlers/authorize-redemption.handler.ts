import type { AuthorizeRedemptionRequest, AuthorizeRedemptionResponse } from '../../../gen/giftcard/v1/holds';
import { authorizeRedemption } from '../../application/authorize-redemption';
import type { AppContext } from '../../application/ports';
import { MAX_REFERENCE_LENGTH, MIN_HOLD_DURATION_MS, RequestFields } from '../validation';

export const authorizeRedemptionHandler =
  (app: AppContext) =>
  async (request: AuthorizeRedemptionRequest): Promise<AuthorizeRedemptionResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      card: fields.cardReference(request),
      amountMinor: fields.positiveAmount('amount', request.amount),
      currency: fields.currency('currency', request.currency),
      orderId: fields.optionalText('orderId', request.orderId, MAX_REFERENCE_LENGTH),
      allowPartial: request.allowPartial,
      holdDurationMs: fields.optionalDuration(
        'holdDuration',
        request.holdDuration,
        MIN_HOLD_DURATION_MS,
        app.limits.holds.maxDurationMs,
      ),
    };
    fields.check();
    const result = await authorizeRedemption(app, command);
    return {
      holdId: result.holdId,
      giftCardId: result.giftCardId,
      heldAmount: result.heldMinor,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
      expireTime: result.expiresAt,
      partial: result.partial,
    };
  };
