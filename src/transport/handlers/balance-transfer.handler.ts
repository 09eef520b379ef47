import {
  TransferStatus,
  type BalanceTransferRequest,
  type BalanceTransferResponse,
} from '../../../gen/giftcard/v1/gift_card_service';
import { balanceTransfer } from '../../application/balance-transfer';
import type { AppContext } from '../../application/ports';
import { statusToProto } from '../mappers';
import { RequestFields } from '../validation';

/** Deleting the source allows amount 0 ("the whole balance"); a plain transfer needs an amount. */
function transferAmount(fields: RequestFields, request: BalanceTransferRequest): bigint {
  if (!request.isDeleteSourceCard) return fields.positiveAmount('amount', request.amount);
  if (request.amount < 0n) fields.violation('amount', 'must not be negative; omit it to move the whole balance');
  return request.amount;
}

export const balanceTransferHandler =
  (app: AppContext) =>
  async (request: BalanceTransferRequest): Promise<BalanceTransferResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      source: fields.cardReference(request),
      amountMinor: transferAmount(fields, request),
      currency: fields.currency('currency', request.currency),
      deleteSource: request.isDeleteSourceCard,
    };
    fields.check();
    const result = await balanceTransfer(app, command);
    return {
      giftCardId: result.giftCardId,
      cardNumber: result.cardNumber,
      passcode: result.passcode,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
      transactionId: result.transactionId,
      debitTransactionId: result.debitTransactionId,
      sourceGiftCardId: result.sourceGiftCardId,
      sourceBalance: result.sourceBalanceMinor,
      sourceAvailableBalance: result.sourceAvailableMinor,
      sourceStatus: statusToProto(result.sourceStatus),
      status: TransferStatus.TRANSFER_STATUS_COMPLETED,
    };
  };
