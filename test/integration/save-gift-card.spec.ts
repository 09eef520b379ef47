import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { GiftCardRole, GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { rpcError, settle } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';
import { accessRowsOf, listAll, newUserId, saveCard, savedRef } from '../support/wallet';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

const wrongPasscodeOf = (card: { passcode: string }) => (card.passcode === '00000000' ? '11111111' : '00000000');

describe('SaveGiftCard', () => {
  it('makes the user the card’s owner and answers with the card as the wallet shows it', async () => {
    const user = newUserId();
    const card = await issueCard(svc.api, { amount: 2_500n, currency: 'EUR' });
    const saved = await saveCard(svc.api, user, card);
    expect(saved.giftCard).toEqual({
      giftCardId: card.giftCardId,
      maskedCardNumber: `************${card.cardNumber.slice(-4)}`,
      balance: 2_500n,
      currency: 'EUR',
      status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
      role: GiftCardRole.GIFT_CARD_ROLE_OWNER,
      preferred: false,
      expireTime: undefined,
    });
    expect(await listAll(svc.api, user)).toEqual([saved.giftCard]);
    expect(await accessRowsOf(db, card.giftCardId)).toEqual([{ userId: user, role: 'OWNER', preferred: false }]);
  });

  it('is idempotent for the owner: saving again answers the same and adds nothing', async () => {
    const user = newUserId();
    const card = await issueCard(svc.api);
    const first = await saveCard(svc.api, user, card);
    const again = await saveCard(svc.api, user, card);
    expect(again).toEqual(first);
    expect(await accessRowsOf(db, card.giftCardId)).toHaveLength(1);
  });

  it('answers the owner of a card issued to them as saving it does', async () => {
    const user = newUserId();
    const card = await issueCard(svc.api, { userId: user });
    const saved = await saveCard(svc.api, user, card);
    expect(saved.giftCard).toMatchObject({ giftCardId: card.giftCardId, role: GiftCardRole.GIFT_CARD_ROLE_OWNER });
  });

  it('refuses a card owned by another user with PERMISSION_DENIED, CARD_OWNED_BY_ANOTHER_USER; the owner keeps it', async () => {
    const [owner, intruder] = [newUserId('owner'), newUserId('intruder')];
    const card = await issueCard(svc.api);
    await saveCard(svc.api, owner, card);
    const error = await rpcError(saveCard(svc.api, intruder, card));
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'CARD_OWNED_BY_ANOTHER_USER' });
    expect(error.message).not.toContain(owner);
    expect(await accessRowsOf(db, card.giftCardId)).toEqual([{ userId: owner, role: 'OWNER', preferred: false }]);
    expect(await listAll(svc.api, intruder)).toEqual([]);
    expect(await rpcError(svc.api.balanceInquiry(savedRef(card, intruder)))).toMatchObject({
      reason: 'CARD_NOT_FOUND',
    });
  });

  it('refuses a user the card is shared with, since the card has an owner', async () => {
    const [owner, friend] = [newUserId('owner'), newUserId('friend')];
    const card = await issueCard(svc.api, { userId: owner });
    await svc.api.shareGiftCard({ userId: owner, giftCardId: card.giftCardId, recipientUserId: friend });
    const error = await rpcError(saveCard(svc.api, friend, card));
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'CARD_OWNED_BY_ANOTHER_USER' });
    expect(await accessRowsOf(db, card.giftCardId)).toEqual(
      [
        { userId: owner, role: 'OWNER', preferred: false },
        { userId: friend, role: 'SHARED', preferred: false },
      ].sort((a, b) => (a.userId < b.userId ? -1 : 1)),
    );
  });

  it('makes a user with shared access the owner of a card that has lost its owner, keeping their preferred flag', async () => {
    const [owner, friend] = [newUserId('owner'), newUserId('friend')];
    const card = await issueCard(svc.api, { userId: owner });
    await svc.api.shareGiftCard({ userId: owner, giftCardId: card.giftCardId, recipientUserId: friend });
    await svc.api.updateGiftCard({ userId: friend, giftCardId: card.giftCardId, preferred: true });
    // No RPC leaves a card with shares and no owner today; operations that move ownership may.
    await db.query(
      `DELETE a FROM card_access a JOIN gift_card c ON c.id = a.card_id WHERE c.public_id = ? AND a.role = 'OWNER'`,
      [card.giftCardId],
    );
    const saved = await saveCard(svc.api, friend, card);
    expect(saved.giftCard).toMatchObject({ role: GiftCardRole.GIFT_CARD_ROLE_OWNER, preferred: true });
    expect(await accessRowsOf(db, card.giftCardId)).toEqual([{ userId: friend, role: 'OWNER', preferred: true }]);
  });

  it('lets exactly one of 10 users saving the same card at once become its owner', async () => {
    const card = await issueCard(svc.api);
    const users = Array.from({ length: 10 }, () => newUserId('racer'));
    const outcomes = await Promise.all(users.map((user) => settle(saveCard(svc.api, user, card))));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.flatMap((o) => (o.ok ? [] : [o.error.reason]))).toEqual(
      Array(9).fill('CARD_OWNED_BY_ANOTHER_USER'),
    );
    const winner = users[outcomes.findIndex((o) => o.ok)];
    expect(await accessRowsOf(db, card.giftCardId)).toEqual([{ userId: winner, role: 'OWNER', preferred: false }]);
  });

  it('refuses a wrong passcode as any card operation does, and counts it towards the lockout', async () => {
    const user = newUserId();
    const card = await issueCard(svc.api);
    const wrong = { ...credentialsOf(card), passcode: wrongPasscodeOf(card) };
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(await rpcError(saveCard(svc.api, user, wrong))).toMatchObject({
        code: status.PERMISSION_DENIED,
        reason: 'INVALID_CARD_CREDENTIALS',
      });
    }
    expect(await rpcError(saveCard(svc.api, user, card))).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      reason: 'PASSCODE_LOCKED',
    });
    expect(await accessRowsOf(db, card.giftCardId)).toEqual([]);
  });

  it('answers an unknown card number as it answers a wrong passcode', async () => {
    const card = await issueCard(svc.api);
    const unknownNumber = { cardNumber: '4111111111111111', passcode: card.passcode };
    const wrongPasscode = { ...credentialsOf(card), passcode: wrongPasscodeOf(card) };
    const [a, b] = await Promise.all([
      rpcError(saveCard(svc.api, newUserId(), unknownNumber)),
      rpcError(saveCard(svc.api, newUserId(), wrongPasscode)),
    ]);
    expect(a).toEqual(b);
  });

  it('still resets the wrong-passcode count when the right passcode comes with a refused save', async () => {
    const [owner, intruder] = [newUserId('owner'), newUserId('intruder')];
    const card = await issueCard(svc.api, { userId: owner });
    const wrong = { ...credentialsOf(card), passcode: wrongPasscodeOf(card) };
    for (let i = 0; i < 4; i++) await rpcError(saveCard(svc.api, intruder, wrong));
    expect((await rpcError(saveCard(svc.api, intruder, card))).reason).toBe('CARD_OWNED_BY_ANOTHER_USER');
    for (let i = 0; i < 4; i++) await rpcError(saveCard(svc.api, intruder, wrong));
    expect((await saveCard(svc.api, owner, card)).giftCard?.giftCardId).toBe(card.giftCardId);
  });

  it('with an idempotency key, replays the first answer and refuses the key for another request', async () => {
    const user = newUserId();
    const card = await issueCard(svc.api);
    const idempotencyKey = newKey();
    const first = await saveCard(svc.api, user, card, idempotencyKey);
    await svc.api.updateGiftCard({ userId: user, giftCardId: card.giftCardId, preferred: true });
    expect(await saveCard(svc.api, user, card, idempotencyKey)).toEqual(first);
    const other = await issueCard(svc.api);
    expect(await rpcError(saveCard(svc.api, user, other, idempotencyKey))).toMatchObject({
      code: status.ALREADY_EXISTS,
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(await accessRowsOf(db, other.giftCardId)).toEqual([]);
  });

  it('leaves the key of a refused save unused, so the corrected request can use it', async () => {
    const user = newUserId();
    const card = await issueCard(svc.api);
    const idempotencyKey = newKey();
    const wrong = { ...credentialsOf(card), passcode: wrongPasscodeOf(card) };
    expect((await rpcError(saveCard(svc.api, user, wrong, idempotencyKey))).reason).toBe('INVALID_CARD_CREDENTIALS');
    expect((await saveCard(svc.api, user, card, idempotencyKey)).giftCard?.giftCardId).toBe(card.giftCardId);
  });

  it('refuses a request without user, number or passcode with INVALID_ARGUMENT naming each field', async () => {
    const error = await rpcError(svc.api.saveGiftCard({}));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['userId', 'cardNumber', 'passcode']);
  });

  it.each([
    ['userId', { userId: 'x'.repeat(129) }],
    ['userId', { userId: 'bob ' }],
    ['userId', { userId: 'b\u00f6b' }],
    ['idempotencyKey', { idempotencyKey: 'k'.repeat(65) }],
    ['cardNumber', { cardNumber: '4111111111111112' }],
    ['passcode', { passcode: '1234567' }],
  ])('refuses a malformed %s with INVALID_ARGUMENT', async (field, override) => {
    const card = await issueCard(svc.api);
    const error = await rpcError(svc.api.saveGiftCard({ userId: newUserId(), ...credentialsOf(card), ...override }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(error.fieldViolations.map((v) => v.field)).toEqual([field]);
  });
});
