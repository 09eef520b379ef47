import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { GiftCardRole } from '../../gen/giftcard/v1/gift_card';
import { issueCard, newKey } from '../support/builders';
import { rpcError, settle } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';
import { listAll, newUserId } from '../support/wallet';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

async function cardsOf(userId: string, count: number): Promise<string[]> {
  const cards = await Promise.all(Array.from({ length: count }, () => issueCard(svc.api, { userId })));
  return cards.map((card) => card.giftCardId);
}

const prefer = (userId: string, giftCardId: string, preferred = true) =>
  svc.api.updateGiftCard({ userId, giftCardId, preferred });

async function preferredOf(userId: string): Promise<string[]> {
  return (await listAll(svc.api, userId)).filter((card) => card.preferred).map((card) => card.giftCardId);
}

async function storedPreferredCount(userId: string): Promise<number> {
  const [[row]] = await db.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM card_access WHERE user_id = ? AND preferred',
    [userId],
  );
  return Number(row?.n);
}

describe('UpdateGiftCard', () => {
  it('sets a card preferred and answers with it as the wallet shows it', async () => {
    const user = newUserId();
    const [giftCardId] = await cardsOf(user, 1);
    const updated = await prefer(user, giftCardId!);
    expect(updated.giftCard).toMatchObject({ giftCardId, preferred: true, role: GiftCardRole.GIFT_CARD_ROLE_OWNER });
    expect(await preferredOf(user)).toEqual([giftCardId]);
  });

  it('setting card 2 preferred clears card 1: a user has at most one preferred card', async () => {
    const user = newUserId();
    const [first, second] = await cardsOf(user, 2);
    await prefer(user, first!);
    await prefer(user, second!);
    expect(await preferredOf(user)).toEqual([second]);
  });

  it('clears the flag when asked, leaving the user with no preferred card', async () => {
    const user = newUserId();
    const [giftCardId] = await cardsOf(user, 1);
    await prefer(user, giftCardId!);
    const updated = await prefer(user, giftCardId!, false);
    expect(updated.giftCard?.preferred).toBe(false);
    expect(await preferredOf(user)).toEqual([]);
  });

  it('changes nothing when the request leaves preferred out (AIP-134: an omitted field is not updated)', async () => {
    const user = newUserId();
    const [favourite, other] = await cardsOf(user, 2);
    await prefer(user, favourite!);
    const unchanged = await svc.api.updateGiftCard({ userId: user, giftCardId: favourite! });
    expect(unchanged.giftCard).toMatchObject({ giftCardId: favourite, preferred: true });
    const untouched = await svc.api.updateGiftCard({ userId: user, giftCardId: other! });
    expect(untouched.giftCard).toMatchObject({ giftCardId: other, preferred: false });
    expect(await preferredOf(user)).toEqual([favourite]);
  });

  it('changes nothing when the card already has the flag asked for', async () => {
    const user = newUserId();
    const [first, second] = await cardsOf(user, 2);
    await prefer(user, first!);
    await prefer(user, first!);
    await prefer(user, second!, false);
    expect(await preferredOf(user)).toEqual([first]);
  });

  it('keeps each user’s choice apart: a user the card is shared with prefers it without touching the owner’s', async () => {
    const [owner, friend] = [newUserId('owner'), newUserId('friend')];
    const [ownersFavourite, sharedCard] = await cardsOf(owner, 2);
    const [friendsOwn] = await cardsOf(friend, 1);
    await svc.api.shareGiftCard({ userId: owner, giftCardId: sharedCard!, recipientUserId: friend });
    await prefer(owner, ownersFavourite!);
    await prefer(friend, friendsOwn!);
    const updated = await prefer(friend, sharedCard!);
    expect(updated.giftCard).toMatchObject({ role: GiftCardRole.GIFT_CARD_ROLE_SHARED, preferred: true });
    expect(await preferredOf(friend)).toEqual([sharedCard]);
    expect(await preferredOf(owner)).toEqual([ownersFavourite]);
  });

  it('leaves exactly one preferred card after 20 concurrent calls on different cards of one user', async () => {
    const user = newUserId();
    const giftCardIds = await cardsOf(user, 20);
    const outcomes = await Promise.all(giftCardIds.map((giftCardId) => settle(prefer(user, giftCardId))));
    expect(outcomes.flatMap((o) => (o.ok ? [] : [o.error.codeName]))).toEqual([]);
    expect(await preferredOf(user)).toHaveLength(1);
    expect(await storedPreferredCount(user)).toBe(1);
  });

  it('answers a card the user cannot see exactly as an unknown card: NOT_FOUND, CARD_NOT_FOUND', async () => {
    const [owner, stranger] = [newUserId('owner'), newUserId('stranger')];
    const [giftCardId] = await cardsOf(owner, 1);
    await cardsOf(stranger, 1);
    const noAccess = await rpcError(prefer(stranger, giftCardId!));
    const unknown = await rpcError(prefer(stranger, randomUUID()));
    expect(noAccess).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
    expect(noAccess).toEqual(unknown);
    expect(await storedPreferredCount(stranger)).toBe(0);
  });

  it('with an idempotency key, replays the first answer and refuses the key for another request', async () => {
    const user = newUserId();
    const [first, second] = await cardsOf(user, 2);
    const idempotencyKey = newKey();
    const answer = await svc.api.updateGiftCard({ idempotencyKey, userId: user, giftCardId: first!, preferred: true });
    await prefer(user, second!);
    expect(await svc.api.updateGiftCard({ idempotencyKey, userId: user, giftCardId: first!, preferred: true })).toEqual(
      answer,
    );
    expect(await preferredOf(user)).toEqual([second]);
    const error = await rpcError(
      svc.api.updateGiftCard({ idempotencyKey, userId: user, giftCardId: first!, preferred: false }),
    );
    expect(error).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('refuses a request missing its fields with INVALID_ARGUMENT naming each', async () => {
    const error = await rpcError(svc.api.updateGiftCard({ preferred: true }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['userId', 'giftCardId']);
  });
});
