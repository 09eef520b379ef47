import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { GiftCardRole } from '../../gen/giftcard/v1/gift_card';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { accessOf, entriesOf, expireDirectly } from '../support/direct-rows';
import { entryCountOf } from '../support/ledger-invariants';
import { rpcError, settle } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';
import { shareCard } from '../support/wallet';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

let userCounter = 0;
/** A user id no other test uses, so wallets never overlap. */
const newUser = (role: string): string => `gift-${role}-${process.pid}-${++userCounter}`;

const redeemSaved = (giftCardId: string, userId: string, amount = 1n) =>
  svc.api.redeem({ idempotencyKey: newKey(), giftCardId, userId, amount, currency: 'USD' });

describe('GiftDigitalCard, new-card mode', () => {
  it('issues a card funded by the purchase and owned by the recipient, shown whole once', async () => {
    const [sender, recipient] = [newUser('sender'), newUser('recipient')];
    const result = await svc.api.giftDigitalCard({
      idempotencyKey: newKey(),
      userId: sender,
      recipientUserId: recipient,
      amount: 2_500n,
      currency: 'USD',
      sourceTransactionId: 'purchase-gift-1',
    });
    expect(result).toMatchObject({ balance: 2_500n, currency: 'USD', recipientUserId: recipient });
    expect(result.cardNumber).toMatch(/^\d{16}$/);
    expect(result.passcode).toMatch(/^\d{8}$/);
    expect(result.maskedCardNumber).toBe(`************${result.cardNumber.slice(-4)}`);
    expect(await entriesOf(db, result.giftCardId)).toEqual([
      expect.objectContaining({ publicId: result.transactionId, type: 'ISSUE', amount: 2_500n }),
    ]);
    expect(await accessOf(db, result.giftCardId)).toEqual([[recipient, 'OWNER']]);
    expect((await redeemSaved(result.giftCardId, recipient, 500n)).balance).toBe(2_000n);
    expect(await rpcError(redeemSaved(result.giftCardId, sender))).toMatchObject({
      code: status.NOT_FOUND,
      reason: 'CARD_NOT_FOUND',
    });
  });

  it('requires amount, currency and sourceTransactionId', async () => {
    const error = await rpcError(
      svc.api.giftDigitalCard({ idempotencyKey: newKey(), userId: newUser('s'), recipientUserId: newUser('r') }),
    );
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['amount', 'currency', 'sourceTransactionId']);
  });

  it('refuses more than the maximum balance with BALANCE_LIMIT_EXCEEDED', async () => {
    const error = await rpcError(
      svc.api.giftDigitalCard({
        idempotencyKey: newKey(),
        userId: newUser('s'),
        recipientUserId: newUser('r'),
        amount: svc.config.maxBalanceMinor + 1n,
        currency: 'USD',
        sourceTransactionId: 'purchase-too-big',
      }),
    );
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'BALANCE_LIMIT_EXCEEDED' });
  });
});

describe('GiftDigitalCard, existing-card mode', () => {
  it('makes the recipient the owner with new credentials it is not shown; the sender and every share lose access; no money moves', async () => {
    const [sender, recipient, friend] = [newUser('sender'), newUser('recipient'), newUser('friend')];
    const card = await issueCard(svc.api, { amount: 3_000n, userId: sender });
    await shareCard(svc.api, card.giftCardId, sender, friend);

    const result = await svc.api.giftDigitalCard({
      idempotencyKey: newKey(),
      userId: sender,
      recipientUserId: recipient,
      giftCardId: card.giftCardId,
    });
    expect(result).toEqual({
      giftCardId: card.giftCardId,
      cardNumber: '',
      passcode: '',
      balance: 3_000n,
      availableBalance: 3_000n,
      currency: 'USD',
      transactionId: '',
      recipientUserId: recipient,
      // The card's new number, which the gift reissued and nobody was shown.
      maskedCardNumber: expect.stringMatching(/^\*{12}\d{4}$/) as string,
    });
    expect(await accessOf(db, card.giftCardId)).toEqual([[recipient, 'OWNER']]);
    expect(await entryCountOf(db, card.giftCardId)).toBe(1);
    for (const former of [sender, friend]) {
      expect(await rpcError(redeemSaved(card.giftCardId, former))).toMatchObject({
        code: status.NOT_FOUND,
        reason: 'CARD_NOT_FOUND',
      });
      expect(await rpcError(svc.api.balanceInquiry({ giftCardId: card.giftCardId, userId: former }))).toMatchObject({
        code: status.NOT_FOUND,
        reason: 'CARD_NOT_FOUND',
      });
    }
    expect((await redeemSaved(card.giftCardId, recipient, 1_000n)).balance).toBe(2_000n);
  });

  it('shows the card in the recipient’s list as owner and no longer in the sender’s', async () => {
    const [sender, recipient] = [newUser('sender'), newUser('recipient')];
    const card = await issueCard(svc.api, { amount: 3_000n, userId: sender });
    await svc.api.giftDigitalCard({
      idempotencyKey: newKey(),
      userId: sender,
      recipientUserId: recipient,
      giftCardId: card.giftCardId,
    });
    const senderList = await svc.api.listGiftCards({ userId: sender });
    expect(senderList.giftCards.map((c) => c.giftCardId)).not.toContain(card.giftCardId);
    const recipientList = await svc.api.listGiftCards({ userId: recipient });
    expect(recipientList.giftCards).toEqual([
      expect.objectContaining({
        giftCardId: card.giftCardId,
        role: GiftCardRole.GIFT_CARD_ROLE_OWNER,
        balance: 3_000n,
        preferred: false,
      }),
    ]);
  });

  it('refuses a sender the card is only shared with with NOT_CARD_OWNER', async () => {
    const [owner, friend] = [newUser('owner'), newUser('friend')];
    const card = await issueCard(svc.api, { userId: owner });
    await shareCard(svc.api, card.giftCardId, owner, friend);
    const error = await rpcError(
      svc.api.giftDigitalCard({
        idempotencyKey: newKey(),
        userId: friend,
        recipientUserId: newUser('recipient'),
        giftCardId: card.giftCardId,
      }),
    );
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'NOT_CARD_OWNER' });
    expect(await accessOf(db, card.giftCardId)).toEqual([
      [friend, 'SHARED'],
      [owner, 'OWNER'],
    ]);
  });

  it('answers CARD_NOT_FOUND for a card the sender has no access to, as for an unknown id', async () => {
    const card = await issueCard(svc.api, { userId: newUser('owner') });
    for (const giftCardId of [card.giftCardId, '00000000-0000-4000-8000-000000000000']) {
      const error = await rpcError(
        svc.api.giftDigitalCard({
          idempotencyKey: newKey(),
          userId: newUser('stranger'),
          recipientUserId: newUser('recipient'),
          giftCardId,
        }),
      );
      expect(error).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND', message: 'gift card not found' });
    }
  });

  it('refuses a card that is not active with CARD_NOT_ACTIVE', async () => {
    const sender = newUser('sender');
    const card = await issueCard(svc.api, { amount: 100n, userId: sender });
    await svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      currency: 'USD',
      isDeleteSourceCard: true,
    });
    const error = await rpcError(
      svc.api.giftDigitalCard({
        idempotencyKey: newKey(),
        userId: sender,
        recipientUserId: newUser('recipient'),
        giftCardId: card.giftCardId,
      }),
    );
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_NOT_ACTIVE' });
    expect(await accessOf(db, card.giftCardId)).toEqual([[sender, 'OWNER']]);
  });

  it('refuses a card past its expiry with CARD_EXPIRED; the sender keeps it', async () => {
    const sender = newUser('sender');
    const card = await issueCard(svc.api, { amount: 100n, userId: sender });
    await expireDirectly(db, card.giftCardId);
    const error = await rpcError(
      svc.api.giftDigitalCard({
        idempotencyKey: newKey(),
        userId: sender,
        recipientUserId: newUser('recipient'),
        giftCardId: card.giftCardId,
      }),
    );
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_EXPIRED' });
    expect(await accessOf(db, card.giftCardId)).toEqual([[sender, 'OWNER']]);
  });

  it('refuses new-card fields alongside giftCardId with INVALID_ARGUMENT naming each', async () => {
    const sender = newUser('sender');
    const card = await issueCard(svc.api, { userId: sender });
    const error = await rpcError(
      svc.api.giftDigitalCard({
        idempotencyKey: newKey(),
        userId: sender,
        recipientUserId: newUser('recipient'),
        giftCardId: card.giftCardId,
        amount: 10n,
        currency: 'USD',
        sourceTransactionId: 'purchase-x',
      }),
    );
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['amount', 'currency', 'sourceTransactionId']);
  });

  it('replays a repeated gift, also once the sender no longer owns the card', async () => {
    const [sender, recipient] = [newUser('sender'), newUser('recipient')];
    const card = await issueCard(svc.api, { userId: sender });
    const request = {
      idempotencyKey: newKey(),
      userId: sender,
      recipientUserId: recipient,
      giftCardId: card.giftCardId,
    };
    const responses = await Promise.all(Array.from({ length: 5 }, () => svc.api.giftDigitalCard(request)));
    for (const response of responses) expect(response).toEqual(responses[0]);
    expect(await svc.api.giftDigitalCard(request)).toEqual(responses[0]);
    expect(await accessOf(db, card.giftCardId)).toEqual([[recipient, 'OWNER']]);
  });

  it('gives the card to only one of two recipients the sender gifts it to at once', async () => {
    const sender = newUser('sender');
    const recipients = [newUser('first'), newUser('second')];
    const card = await issueCard(svc.api, { userId: sender });
    const outcomes = await Promise.all(
      recipients.map((recipientUserId) =>
        settle(
          svc.api.giftDigitalCard({
            idempotencyKey: newKey(),
            userId: sender,
            recipientUserId,
            giftCardId: card.giftCardId,
          }),
        ),
      ),
    );
    const winners = outcomes.flatMap((o) => (o.ok ? [o.value.recipientUserId] : []));
    expect(winners).toHaveLength(1);
    expect(outcomes.flatMap((o) => (o.ok ? [] : [o.error.reason]))).toEqual(['CARD_NOT_FOUND']);
    expect(await accessOf(db, card.giftCardId)).toEqual([[winners[0], 'OWNER']]);
  });
});

describe('GiftDigitalCard, either mode', () => {
  it.each([
    ['new-card', { amount: 10n, currency: 'USD', sourceTransactionId: 'purchase-self' }],
    ['existing-card', { giftCardId: '00000000-0000-4000-8000-000000000000' }],
  ])('refuses a gift to the sender themself in %s mode, naming recipientUserId', async (_mode, fields) => {
    const user = newUser('self');
    const error = await rpcError(
      svc.api.giftDigitalCard({ idempotencyKey: newKey(), userId: user, recipientUserId: user, ...fields }),
    );
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['recipientUserId']);
  });

  it('requires an idempotency key, the sender and the recipient', async () => {
    const error = await rpcError(
      svc.api.giftDigitalCard({ amount: 10n, currency: 'USD', sourceTransactionId: 'purchase-y' }),
    );
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['idempotencyKey', 'userId', 'recipientUserId']);
  });
});
