import type { BalanceInquiryRequest, BalanceInquiryResponse } from '../../../gen/giftcard/v1/gift_card_service';
import { balanceInquiry } from '../../application/balance-inquiry';
import type { AppContext } from '../../application/ports';
import { maskedNumber, statusToProto, timeToProto } from '../mappers';
import { RequestFields } from '../validation';

export const balanceInquiryHandler =
  (app: AppContext) =>
  async (request: BalanceInquiryRequest): Promise<BalanceInquiryResponse> => {
    const fields = new RequestFields();
    const card = fields.cardReference(request);
    fields.check();
    const view = await balanceInquiry(app, card);
    return {
      giftCardId: view.giftCardId,
      maskedCardNumber: maskedNumber(view.numberLast4),
      balance: view.balanceMinor,
      availableBalance: view.availableMinor,
      currency: view.currency,
      status: statusToProto(view.status),
      expireTime: timeToProto(view.expiresAt),
    };
  };
