import { readPageToken, writePageToken, type PageScope } from './page-token';
import type { AppContext } from './ports';
import { savedCardView, type SavedCardView } from './saved-card-view';

export interface ListGiftCardsQuery {
  readonly userId: string;
  /** Already within the contract's bounds (transport/validation.ts). */
  readonly pageSize: number;
  readonly pageToken: string | null;
}

export interface GiftCardPage {
  readonly cards: readonly SavedCardView[];
  /** Null on the last page. */
  readonly nextPageToken: string | null;
}

/** A user's cards, continued after the last internal card id shown to them. */
const walletOf = (userId: string): PageScope => ({ purpose: 'ListGiftCards/v2', scope: userId, scopeName: 'userId' });

/**
 * A user's cards, owned and shared, in ascending internal card id (SPEC §4.11). Keyset paging on
 * that id never shows a card twice nor skips one that stays saved, whatever changes between pages.
 */
export async function listGiftCards(ctx: AppContext, query: ListGiftCardsQuery): Promise<GiftCardPage> {
  const scope = walletOf(query.userId);
  const [afterCardId = null] = query.pageToken === null ? [] : readPageToken(ctx.secrets, query.pageToken, scope, 1);
  // One row beyond the page tells whether another page follows without a second query.
  const found = await ctx.uow.reads.access.listByUser(query.userId, afterCardId, query.pageSize + 1);
  const page = found.slice(0, query.pageSize);
  const last = page[page.length - 1];
  const nextPageToken =
    found.length > query.pageSize && last !== undefined ? writePageToken(ctx.secrets, scope, [last.card.id]) : null;
  return { cards: page.map(savedCardView), nextPageToken };
}
