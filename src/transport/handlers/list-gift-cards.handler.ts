import type { ListGiftCardsRequest, ListGiftCardsResponse } from '../../../gen/giftcard/v1/gift_card_service';
import { listGiftCards } from '../../application/list-gift-cards';
import type { AppContext } from '../../application/ports';
import { savedGiftCardToProto } from '../mappers';
import { RequestFields } from '../validation';

export const listGiftCardsHandler =
  (app: AppContext) =>
  async (request: ListGiftCardsRequest): Promise<ListGiftCardsResponse> => {
    const fields = new RequestFields();
    const query = {
      userId: fields.userId('userId', request.userId),
      pageSize: fields.pageSize('pageSize', request.pageSize),
      pageToken: fields.optionalPageToken('pageToken', request.pageToken),
    };
    fields.check();
    const page = await listGiftCards(app, query);
    return { giftCards: page.cards.map(savedGiftCardToProto), nextPageToken: page.nextPageToken ?? '' };
  };
