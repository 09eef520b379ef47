import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { issueCard, newKey } from '../support/builders';
import { rpcError, settle } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';
import { accessRowsOf, listAll, newUserId, savedRef } from '../support/wallet';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

async function ownedCard(amount = 10_000n) {
  const owner = newUserId('owner');
  const card = await issueCard(svc.api, { amount, userId: owner });
  return { owner, card, giftCardId: card.giftCardId };
}

describe('UnshareGiftCard', () => {
  it('takes the recipient’s access away: the card leaves their wallet and names CARD_NOT_FOUND to them', async () => {
    const { owner, card, giftCardId } = await ownedCard();
    const friend = newUserId('friend');
    await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    const revoked = await svc.api.unshareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    expect(revoked).toEqual({ giftCardId, recipientUserId: friend });
    expect(await listAll(svc.api, friend)).toEqual([]);
    expect(await rpcError(svc.api.balanceInquiry(savedRef(card, friend)))).toMatchObject({
      code: status.NOT_FOUND,
      reason: 'CARD_NOT_FOUND',
    });
    expect(await accessRowsOf(db, giftCardId)).toEqual([{ userId: owner, role: 'OWNER', preferred: false }]);
  });

  it('succeeds again when the share is already gone, so a retry is safe', async () => {
    const { owner, giftCardId } = await ownedCard();
    const friend = newUserId('friend');
    await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    await svc.api.unshareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    const again = await svc.api.unshareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    expect(again).toEqual({ giftCardId, recipientUserId: friend });
  });

  it('lets only the owner revoke: a user it is shared with gets PERMISSION_DENIED, NOT_CARD_OWNER', async () => {
    const { owner, giftCardId } = await ownedCard();
    const [friend, other] = [newUserId('friend'), newUserId('other')];
    await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: other });
    for (const recipientUserId of [other, owner]) {
      const error = await rpcError(svc.api.unshareGiftCard({ userId: friend, giftCardId, recipientUserId }));
      expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'NOT_CARD_OWNER' });
    }
    expect(await accessRowsOf(db, giftCardId)).toHaveLength(3);
  });

  it('refuses the owner revoking their own access: INVALID_ARGUMENT naming recipientUserId', async () => {
    const { owner, giftCardId } = await ownedCard();
    const error = await rpcError(svc.api.unshareGiftCard({ userId: owner, giftCardId, recipientUserId: owner }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'CANNOT_SHARE_WITH_SELF' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['recipientUserId']);
    expect(await accessRowsOf(db, giftCardId)).toEqual([{ userId: owner, role: 'OWNER', preferred: false }]);
  });

  it('answers a user without access exactly as an unknown card', async () => {
    const { owner, giftCardId } = await ownedCard();
    const stranger = newUserId('stranger');
    const noAccess = await rpcError(svc.api.unshareGiftCard({ userId: stranger, giftCardId, recipientUserId: owner }));
    const unknown = await rpcError(
      svc.api.unshareGiftCard({ userId: stranger, giftCardId: randomUUID(), recipientUserId: owner }),
    );
    expect(noAccess).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
    expect(noAccess).toEqual(unknown);
  });

  it('takes the recipient’s preferred flag on the card away with their access', async () => {
    const { owner, giftCardId } = await ownedCard();
    const friend = newUserId('friend');
    await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    await svc.api.updateGiftCard({ userId: friend, giftCardId, preferred: true });
    await svc.api.unshareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    expect(await listAll(svc.api, friend)).toEqual([expect.objectContaining({ giftCardId, preferred: false })]);
  });

  it('racing the recipient’s redemptions, lets each redemption either complete first or be refused after', async () => {
    const { owner, card, giftCardId } = await ownedCard(10_000n);
    const friend = newUserId('friend');
    await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    const redemptions = Array.from({ length: 20 }, () =>
      settle(svc.api.redeem({ idempotencyKey: newKey(), ...savedRef(card, friend), amount: 10n, currency: 'USD' })),
    );
    await svc.api.unshareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    const outcomes = await Promise.all(redemptions);
    const refusals = outcomes.flatMap((o) => (o.ok ? [] : [o.error.reason]));
    expect(new Set(refusals)).toEqual(new Set(refusals.length > 0 ? ['CARD_NOT_FOUND'] : []));
    const taken = 10n * BigInt(outcomes.length - refusals.length);
    expect((await svc.api.balanceInquiry(savedRef(card, owner))).balance).toBe(10_000n - taken);
    expect(await rpcError(svc.api.balanceInquiry(savedRef(card, friend)))).toMatchObject({ reason: 'CARD_NOT_FOUND' });
  });

  it('refuses a key ShareGiftCard already used, even with the very same fields: IDEMPOTENCY_KEY_REUSED', async () => {
    const { owner, giftCardId } = await ownedCard();
    const friend = newUserId('friend');
    const fields = { idempotencyKey: newKey(), userId: owner, giftCardId, recipientUserId: friend };
    await svc.api.shareGiftCard(fields);
    const error = await rpcError(svc.api.unshareGiftCard(fields));
    expect(error).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await accessRowsOf(db, giftCardId)).toContainEqual({ userId: friend, role: 'SHARED', preferred: false });
  });

  it('refuses a request missing its fields with INVALID_ARGUMENT naming each', async () => {
    const error = await rpcError(svc.api.unshareGiftCard({ idempotencyKey: 'bad\u0001key' }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(error.fieldViolations.map((v) => v.field)).toEqual([
      'idempotencyKey',
      'userId',
      'giftCardId',
      'recipientUserId',
    ]);
  });
});
