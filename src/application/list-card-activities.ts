import {
  holdEventOf,
  newestFirst,
  type ActivityPosition,
  type ActivityType,
  type CardActivity,
} from '../domain/card-activity';
import { lockReferencedCard, type CardReference } from './card-reference';
import { readPageToken, writePageToken, type PageScope } from './page-token';
import type { AppContext } from './ports';

export interface ListCardActivitiesQuery {
  readonly card: CardReference;
  /** Already within the contract's bounds (transport/validation.ts). */
  readonly pageSize: number;
  readonly pageToken: string | null;
  /** Only activities of this type; null for all. */
  readonly type: ActivityType | null;
}

export interface ActivityPage {
  readonly activities: readonly CardActivity[];
  /** Null on the last page. */
  readonly nextPageToken: string | null;
}

/** A token continues one card's history with one filter, and nothing else. */
const historyOf = (giftCardId: string, type: ActivityType | null): PageScope => ({
  purpose: 'ListCardActivities/v1',
  scope: `${giftCardId}/${type ?? '*'}`,
  scopeName: 'card or activityType',
});

/**
 * A card's history, newest first (SPEC §9): its ledger entries and its holds' events as one list.
 * The card is named and checked exactly as for spending (a wrong passcode counts), under its lock,
 * which also records any hold that lapsed since the card last changed; the page itself is read
 * after the lock is released, from rows that are never changed once written.
 */
export async function listCardActivities(ctx: AppContext, query: ListCardActivitiesQuery): Promise<ActivityPage> {
  const located = await ctx.uow.run((tx) => lockReferencedCard(ctx, tx, query.card));
  if (!located.ok) throw located.error;
  const { card } = located.value;
  const scope = historyOf(card.publicId, query.type);
  const before = query.pageToken === null ? null : positionOf(readPageToken(ctx.secrets, query.pageToken, scope, 3));
  // One row beyond the page from each stream tells whether another page follows.
  const limit = query.pageSize + 1;
  const history = ctx.uow.reads.history;
  const entries = query.type === null || holdEventOf(query.type) === null;
  const found = newestFirst(
    entries ? await history.entriesBefore(card.id, before, query.type, limit) : [],
    await history.eventsBefore(card.id, before, query.type, limit),
    limit,
  );
  const page = found.slice(0, query.pageSize);
  const last = page[page.length - 1];
  const nextPageToken =
    found.length > query.pageSize && last !== undefined
      ? writePageToken(ctx.secrets, scope, [last.position.entryId, BigInt(last.position.step), last.position.eventId])
      : null;
  return { activities: page, nextPageToken };
}

function positionOf([entryId = 0n, step = 0n, eventId = 0n]: readonly bigint[]): ActivityPosition {
  return { entryId, step: step === 1n ? 1 : 0, eventId };
}
