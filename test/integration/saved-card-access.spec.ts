import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { credentialsOf, issueCard, newKey, newPurchase } from '../support/builders';
import { rpcError } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';
import { newUserId, saveCard, savedRef } from '../support/wallet';

let svc: TestService;

useTestService((started) => {
  ({ svc } = started);
});

const redeemBy = (ref: { giftCardId: string; userId: string }, amount = 100n) =>
  svc.api.redeem({ idempotencyKey: newKey(), ...ref, amount, currency: 'USD' });
const reloadBy = (ref: { giftCardId: string; userId: string }, amount = 100n) =>
  svc.api.reload({ idempotencyKey: newKey(), ...ref, amount, currency: 'USD', sourceTransactionId: newPurchase() });

/** Every operation that names an existing card, in its saved-card form. */
const everyOperation = (ref: { giftCardId: string; userId: string }) => [
  redeemBy(ref),
  reloadBy(ref),
  svc.api.balanceInquiry(ref),
];

describe('Naming a card by giftCardId + userId', () => {
  it('lets the owner and a user it is shared with spend it; others and, after revocation, the recipient get CARD_NOT_FOUND', async () => {
    const [owner, friend, stranger] = [newUserId('owner'), newUserId('friend'), newUserId('stranger')];
    const card = await issueCard(svc.api, { amount: 5_000n });
    const saved = await saveCard(svc.api, owner, card);
    const { giftCardId } = saved.giftCard!;
    await svc.api.shareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });

    expect(await redeemBy(savedRef(card, friend), 1_000n)).toMatchObject({ giftCardId, balance: 4_000n });
    expect(await reloadBy(savedRef(card, friend), 500n)).toMatchObject({ giftCardId, balance: 4_500n });
    expect(await redeemBy(savedRef(card, owner), 500n)).toMatchObject({ balance: 4_000n });

    for (const call of everyOperation(savedRef(card, stranger))) {
      expect(await rpcError(call)).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
    }

    await svc.api.unshareGiftCard({ userId: owner, giftCardId, recipientUserId: friend });
    for (const call of everyOperation(savedRef(card, friend))) {
      expect(await rpcError(call)).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
    }
    expect((await svc.api.balanceInquiry(savedRef(card, owner))).balance).toBe(4_000n);
  });

  it('answers a user without access exactly as it answers a card that does not exist', async () => {
    const card = await issueCard(svc.api, { userId: newUserId('owner') });
    const stranger = newUserId('stranger');
    const noAccess = await Promise.all(everyOperation(savedRef(card, stranger)).map(rpcError));
    const unknown = await Promise.all(everyOperation({ giftCardId: randomUUID(), userId: stranger }).map(rpcError));
    expect(noAccess).toEqual(unknown);
    expect(noAccess[0]).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
  });

  it('changes no balance when it refuses a user without access', async () => {
    const card = await issueCard(svc.api, { amount: 2_000n, userId: newUserId('owner') });
    await rpcError(redeemBy(savedRef(card, newUserId('stranger')), 2_000n));
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(2_000n);
  });

  it('matches user ids exactly: another letter case is another user', async () => {
    const owner = newUserId('Owner');
    const card = await issueCard(svc.api, { userId: owner });
    const error = await rpcError(svc.api.balanceInquiry(savedRef(card, owner.toUpperCase())));
    expect(error).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
  });

  // MySQL compares user_id under a PAD SPACE collation, where 'bob ' = 'bob'.
  it.each([' ', '   '])(
    'refuses a user id with trailing spaces %p as INVALID_ARGUMENT instead of matching the owner',
    async (pad) => {
      const owner = newUserId('owner');
      const card = await issueCard(svc.api, { amount: 1_000n, userId: owner });
      for (const call of everyOperation(savedRef(card, owner + pad))) {
        const error = await rpcError(call);
        expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
        expect(error.fieldViolations.map((v) => v.field)).toEqual(['userId']);
      }
      expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(1_000n);
    },
  );

  it('refuses naming a card both ways at once', async () => {
    const owner = newUserId('owner');
    const card = await issueCard(svc.api, { userId: owner });
    const error = await rpcError(svc.api.balanceInquiry({ ...credentialsOf(card), ...savedRef(card, owner) }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('refuses a giftCardId that is not an id this service returns as INVALID_ARGUMENT', async () => {
    const error = await rpcError(svc.api.balanceInquiry({ giftCardId: 'not-an-id', userId: newUserId() }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['giftCardId']);
  });
});
