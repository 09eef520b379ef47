import type { ReissueCredentialsRequest, ReissueCredentialsResponse } from '../../../gen/giftcard/v1/card_lifecycle';
import type { AppContext } from '../../application/ports';
import { reissueCredentials } from '../../application/reissue-credentials';
import { statusToProto } from '../mappers';
import { RequestFields } from '../validation';

export const reissueCredentialsHandler =
  (app: AppContext) =>
  async (request: ReissueCredentialsRequest): Promise<ReissueCredentialsResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      card: fields.cardReference(request),
    };
    fields.check();
    const result = await reissueCredentials(app, command);
    return {
      giftCardId: result.giftCardId,
      cardNumber: result.cardNumber,
      passcode: result.passcode,
      status: statusToProto(result.status),
      balance: result.balanceMinor,
      currency: result.currency,
    };
  };
