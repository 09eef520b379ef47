import { AdjustmentReason as ProtoReason } from '../../../gen/giftcard/v1/card_lifecycle';
import type { AdjustBalanceRequest, AdjustBalanceResponse } from '../../../gen/giftcard/v1/card_lifecycle';
import { adjustBalance } from '../../application/adjust-balance';
import type { AppContext } from '../../application/ports';
import { AdjustmentReason } from '../../domain/card-lifecycle';
import { MAX_ADJUSTMENT_NOTE_LENGTH, RequestFields } from '../validation';

const REASON_FROM_PROTO: ReadonlyMap<ProtoReason, AdjustmentReason> = new Map([
  [ProtoReason.ADJUSTMENT_REASON_SYSTEM_ERROR, AdjustmentReason.SYSTEM_ERROR],
  [ProtoReason.ADJUSTMENT_REASON_GOODWILL, AdjustmentReason.GOODWILL],
  [ProtoReason.ADJUSTMENT_REASON_DISPUTE, AdjustmentReason.DISPUTE],
  [ProtoReason.ADJUSTMENT_REASON_FRAUD, AdjustmentReason.FRAUD],
  [ProtoReason.ADJUSTMENT_REASON_OTHER, AdjustmentReason.OTHER],
]);

export const adjustBalanceHandler =
  (app: AppContext) =>
  async (request: AdjustBalanceRequest): Promise<AdjustBalanceResponse> => {
    const fields = new RequestFields();
    const reason = REASON_FROM_PROTO.get(request.reason);
    if (reason === undefined) fields.violation('reason', 'must name why the balance is adjusted');
    if (request.amount === 0n) fields.violation('amount', 'must not be zero');
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      giftCardId: fields.publicId('giftCardId', request.giftCardId),
      amountMinor: request.amount,
      currency: fields.currency('currency', request.currency),
      reason: reason ?? AdjustmentReason.OTHER,
      note: fields.text('note', request.note, MAX_ADJUSTMENT_NOTE_LENGTH),
    };
    fields.check();
    const result = await adjustBalance(app, command);
    return {
      transactionId: result.transactionId,
      giftCardId: result.giftCardId,
      amount: result.amountMinor,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
    };
  };
