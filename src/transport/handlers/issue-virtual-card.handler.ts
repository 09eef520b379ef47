import type { IssueVirtualCardRequest, IssueVirtualCardResponse } from '../../../gen/giftcard/v1/gift_card_service';
import { issueVirtualCard } from '../../application/issue-virtual-card';
import type { AppContext } from '../../application/ports';
import { statusToProto, timeToProto } from '../mappers';
import { MAX_REFERENCE_LENGTH, RequestFields } from '../validation';

export const issueVirtualCardHandler =
  (app: AppContext) =>
  async (request: IssueVirtualCardRequest): Promise<IssueVirtualCardResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      amountMinor: fields.positiveAmount('amount', request.amount),
      currency: fields.currency('currency', request.currency),
      sourceTransactionId: fields.text('sourceTransactionId', request.sourceTransactionId, MAX_REFERENCE_LENGTH),
      userId: fields.optionalUserId('userId', request.userId),
      expiresAt: fields.optionalFutureTime('expireTime', request.expireTime),
    };
    fields.check();
    const issued = await issueVirtualCard(app, command);
    return {
      giftCardId: issued.giftCardId,
      cardNumber: issued.cardNumber,
      passcode: issued.passcode,
      balance: issued.balanceMinor,
      availableBalance: issued.availableMinor,
      currency: issued.currency,
      status: statusToProto(issued.status),
      transactionId: issued.transactionId,
      expireTime: timeToProto(issued.expiresAt),
    };
  };
