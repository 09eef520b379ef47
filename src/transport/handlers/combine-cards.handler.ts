import type { CombineCardsRequest, CombineCardsResponse } from '../../../gen/giftcard/v1/gift_card_service';
import { combineCards } from '../../application/combine-cards';
import type { AppContext } from '../../application/ports';
import { MAX_COMBINE_SOURCES } from '../../domain/combination';
import { RequestFields } from '../validation';

const SOURCES_FIELD = 'sourceGiftCardIds';

/** 1 to MAX_COMBINE_SOURCES ids, each well formed, none repeated, none the target. */
function sourceIds(fields: RequestFields, targetId: string, ids: readonly string[]): readonly string[] {
  if (ids.length === 0) {
    fields.violation(SOURCES_FIELD, 'needs at least one card to combine into the target');
    return ids;
  }
  if (ids.length > MAX_COMBINE_SOURCES) {
    fields.violation(SOURCES_FIELD, `takes at most ${MAX_COMBINE_SOURCES} cards per combine`);
    return ids;
  }
  ids.forEach((id, index) => {
    const field = `${SOURCES_FIELD}[${index}]`;
    fields.publicId(field, id);
    const first = ids.indexOf(id);
    if (id !== '' && id === targetId) fields.violation(field, 'is the target; a card cannot be combined into itself');
    else if (id !== '' && first < index) fields.violation(field, `repeats ${SOURCES_FIELD}[${first}]`);
  });
  return ids;
}

export const combineCardsHandler =
  (app: AppContext) =>
  async (request: CombineCardsRequest): Promise<CombineCardsResponse> => {
    const fields = new RequestFields();
    const command = {
      idempotencyKey: fields.idempotencyKey(request.idempotencyKey),
      userId: fields.userId('userId', request.userId),
      targetGiftCardId: fields.publicId('targetGiftCardId', request.targetGiftCardId),
      sourceGiftCardIds: sourceIds(fields, request.targetGiftCardId, request.sourceGiftCardIds),
    };
    fields.check();
    const result = await combineCards(app, command);
    return {
      giftCardId: result.giftCardId,
      balance: result.balanceMinor,
      availableBalance: result.availableMinor,
      currency: result.currency,
      sources: result.sources.map((source) => ({
        giftCardId: source.giftCardId,
        amount: source.amountMinor,
        transactionId: source.transactionId ?? '',
      })),
      transactionId: result.transactionId,
    };
  };
