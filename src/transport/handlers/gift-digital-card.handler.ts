import type { GiftDigitalCardRequest, GiftDigitalCardResponse } from '../../../gen/giftcard/v1/gift_card_service';
import { giftDigitalCard, type Gift } from '../../application/gift-digital-card';
import type { AppContext } from '../../application/ports';
import { maskedNumber } from '../mappers';
import { MAX_REFERENCE_LENGTH, RequestFields } from '../validation';

const NEW_CARD_MODE_ONLY = 'belongs to new-card mode; omit it when giftCardId is set';

/**
 * With gift_card_id the card is already funded; a stray amount, currency or purchase id would be
 * silently ignored money terms, so they are refused rather than guessed at.
 */
function existingCardGift(fields: RequestFields, request: GiftDigitalCardRequest): Gift {
  if (request.amount !== 0n) fields.violation('amount', NEW_CARD_MODE_ONLY);
  if (request.currency !== '') fields.violation('currency', NEW_CARD_MODE_ONLY);
  if (request.sourceTransactionId !== '') fields.violation('sourceTransactionId', NEW_CARD_MODE_ONLY);
  return { kind: 'existing', giftCardId: fields.publicId('giftCardId', request.giftCardId) };
}

function newCardGift(fields: RequestFields, request: GiftDigitalCardRequest): Gift {
  return {
    kind: 'new',
    amountMinor: fields.positiveAmount('amount', request.amount),
    currency: fields.currency('currency', request.currency),
    sourceTransactionId: fields.text('sourceTransactionId', request.sourceTransactionId, MAX_REFERENCE_LENGTH),
  };
}

export const giftDigitalCardHandler =
  (app: AppContext) =>
  async (request: GiftDigitalCardRequest): Promise<GiftDigitalCardResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      senderUserId: fields.userId('userId', request.userId),
      recipientUserId: fields.userId('recipientUserId', request.recipientUserId),
      gift: request.giftCardId === '' ? newCardGift(fields, request) : existingCardGift(fields, request),
    };
    if (request.userId !== '' && request.recipientUserId === request.userId) {
      fields.violation('recipientUserId', 'must be another user than userId: a gift goes to someone else');
    }
    fields.check();
    const gifted = await giftDigitalCard(app, command);
    return {
      giftCardId: gifted.giftCardId,
      cardNumber: gifted.cardNumber ?? '',
      passcode: gifted.passcode ?? '',
      balance: gifted.balanceMinor,
      availableBalance: gifted.availableMinor,
      currency: gifted.currency,
      transactionId: gifted.transactionId ?? '',
      recipientUserId: gifted.recipientUserId,
      maskedCardNumber: maskedNumber(gifted.numberLast4),
    };
  };
