import { randomUUID } from 'node:crypto';
import type { SavedGiftCard } from '../../gen/giftcard/v1/gift_card';
import type { SaveGiftCardResponse } from '../../gen/giftcard/v1/gift_card_service';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { GiftCardApi } from './api';

/** A user id no other test uses: the run's tests share one database. */
export const newUserId = (label = 'user'): string => `${label}-${randomUUID()}`;

/** The saved-card way of naming a card (SPEC §2). */
export const savedRef = (card: { giftCardId: string }, userId: string) => ({ giftCardId: card.giftCardId, userId });

export function saveCard(
  api: GiftCardApi,
  userId: string,
  card: { cardNumber: string; passcode: string },
  idempotencyKey = '',
): Promise<SaveGiftCardResponse> {
  return api.saveGiftCard({ userId, cardNumber: card.cardNumber, passcode: card.passcode, idempotencyKey });
}

/** Every card of a user, following next_page_token to the end. */
export async function listAll(api: GiftCardApi, userId: string, pageSize = 0): Promise<SavedGiftCard[]> {
  const cards: SavedGiftCard[] = [];
  let pageToken = '';
  do {
    const page = await api.listGiftCards({ userId, pageSize, pageToken });
    cards.push(...page.giftCards);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return cards;
}

/** The access rows of a card as stored, read behind the service's back. */
export async function accessRowsOf(
  db: Connection,
  giftCardId: string,
): Promise<{ userId: string; role: string; preferred: boolean }[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT a.user_id, a.role, a.preferred FROM card_access a JOIN gift_card c ON c.id = a.card_id
     WHERE c.public_id = ? ORDER BY a.user_id`,
    [giftCardId],
  );
  return rows.map((row) => ({
    userId: String(row.user_id),
    role: String(row.role),
    preferred: Number(row.preferred) === 1,
  }));
}

/** The owner shares the card with another user through ShareGiftCard. */
export async function shareCard(
  api: GiftCardApi,
  giftCardId: string,
  ownerId: string,
  recipientId: string,
): Promise<void> {
  await api.shareGiftCard({ userId: ownerId, giftCardId, recipientUserId: recipientId });
}

/** Makes the card the user's preferred one through UpdateGiftCard. */
export async function preferCard(api: GiftCardApi, giftCardId: string, userId: string): Promise<void> {
  await api.updateGiftCard({ userId, giftCardId, preferred: true });
}
