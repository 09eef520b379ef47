import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { GiftCardRole } from '../../gen/giftcard/v1/gift_card';
import { issueCard, newKey } from '../support/builders';
import { rpcError, settleDefinitely } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';
import { accessRowsOf, listAll, newUserId, savedRef } from '../support/wallet';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

/** SPEC's limit on users one card is shared with (src/domain/wallet.ts). */
const MAX_SHARES_PER_CARD = 50;

async function ownedCard(amount = 10_000n) {
  const owner = newUserId('owner');
  const card = await issueCard(svc.api, { amount, userId: owner });
  return { owner, card, giftCardId: card.giftCardId };
}

describe('ShareGiftCard', () => {
  it('gives the recipient access with role SHARED; the card appears in their wallet', async () => {
    const { owner, card, giftCardId } = await ownedCard(3_000n);
    const friend = newUserId('friend');
    const shared = await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    expect(shared).toEqual({ giftCardId, recipientUserId: friend, role: GiftCardRole.GIFT_CARD_ROLE_SHARED });
    expect(await listAll(svc.api, friend)).toEqual([
      expect.objectContaining({ giftCardId, role: GiftCardRole.GIFT_CARD_ROLE_SHARED, balance: 3_000n }),
    ]);
    expect((await svc.api.balanceInquiry(savedRef(card, friend))).balance).toBe(3_000n);
  });

  it('is idempotent: sharing again with the same user answers the same and adds no row', async () => {
    const { owner, giftCardId } = await ownedCard();
    const friend = newUserId('friend');
    const first = await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    const again = await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    expect(again).toEqual(first);
    expect(await accessRowsOf(db, giftCardId)).toHaveLength(2);
  });

  it('refuses sharing with oneself: INVALID_ARGUMENT, CANNOT_SHARE_WITH_SELF, naming recipientUserId', async () => {
    const { owner, giftCardId } = await ownedCard();
    const error = await rpcError(svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: owner }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'CANNOT_SHARE_WITH_SELF' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['recipientUserId']);
    expect(await accessRowsOf(db, giftCardId)).toEqual([{ userId: owner, role: 'OWNER', preferred: false }]);
  });

  it('lets only the owner share: a user it is shared with gets PERMISSION_DENIED, NOT_CARD_OWNER', async () => {
    const { owner, giftCardId } = await ownedCard();
    const [friend, friendOfFriend] = [newUserId('friend'), newUserId('fof')];
    await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    const error = await rpcError(
      svc.api.shareGiftCard({ userId: friend, giftCardId, recipientUserId: friendOfFriend }),
    );
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'NOT_CARD_OWNER' });
    expect(await listAll(svc.api, friendOfFriend)).toEqual([]);
  });

  it('answers a user without access exactly as an unknown card: NOT_FOUND, CARD_NOT_FOUND', async () => {
    const { giftCardId } = await ownedCard();
    const stranger = newUserId('stranger');
    const recipientUserId = newUserId('accomplice');
    const noAccess = await rpcError(svc.api.shareGiftCard({ userId: stranger, giftCardId, recipientUserId }));
    const unknown = await rpcError(
      svc.api.shareGiftCard({ userId: stranger, giftCardId: randomUUID(), recipientUserId }),
    );
    expect(noAccess).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
    expect(noAccess).toEqual(unknown);
    expect(await listAll(svc.api, recipientUserId)).toEqual([]);
  });

  it(`shares one card with at most ${MAX_SHARES_PER_CARD} users, counting concurrent shares exactly`, async () => {
    const { owner, giftCardId } = await ownedCard();
    const outcomes = await Promise.all(
      // Each share is resent when a burst is turned away (OVERLOADED) or outwaits the card, as callers do.
      Array.from({ length: MAX_SHARES_PER_CARD + 10 }, () => {
        const request = { userId: owner, giftCardId, recipientUserId: newUserId('crowd') };
        return settleDefinitely(() => svc.api.shareGiftCard(request));
      }),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(MAX_SHARES_PER_CARD);
    const refusals = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
    expect(refusals).toHaveLength(10);
    for (const error of refusals) {
      expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'SHARE_LIMIT_REACHED' });
    }
    expect(await accessRowsOf(db, giftCardId)).toHaveLength(MAX_SHARES_PER_CARD + 1);
  });

  it('still answers a share already granted when the card is at its limit', async () => {
    const { owner, giftCardId } = await ownedCard();
    const crowd = Array.from({ length: MAX_SHARES_PER_CARD }, () => newUserId('crowd'));
    for (const recipientUserId of crowd) await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId });
    const again = await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: crowd[0] });
    expect(again.recipientUserId).toBe(crowd[0]);
  });

  it('with an idempotency key, replays the first answer and refuses the key for another recipient', async () => {
    const { owner, giftCardId } = await ownedCard();
    const idempotencyKey = newKey();
    const friend = newUserId('friend');
    const first = await svc.api.shareGiftCard({ idempotencyKey, userId: owner, giftCardId, recipientUserId: friend });
    expect(await svc.api.shareGiftCard({ idempotencyKey, userId: owner, giftCardId, recipientUserId: friend })).toEqual(
      first,
    );
    const error = await rpcError(
      svc.api.shareGiftCard({ idempotencyKey, userId: owner, giftCardId, recipientUserId: newUserId('other') }),
    );
    expect(error).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await accessRowsOf(db, giftCardId)).toHaveLength(2);
  });

  it('refuses a request missing its fields with INVALID_ARGUMENT naming each', async () => {
    const error = await rpcError(svc.api.shareGiftCard({}));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['userId', 'giftCardId', 'recipientUserId']);
  });

  it('refuses a recipient id with surrounding spaces, which the database would take for another user', async () => {
    const { owner, giftCardId } = await ownedCard();
    const error = await rpcError(svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: `${owner} ` }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['recipientUserId']);
  });
});
