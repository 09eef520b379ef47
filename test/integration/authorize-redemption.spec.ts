import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { expireDirectly } from '../support/direct-rows';
import { authorize, durationOf, holdEventsOf, holdRow } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { entryCountOf } from '../support/ledger-invariants';
import { rpcError } from '../support/rpc-error';
import { TestClock } from '../support/test-clock';
import type { TestService } from '../support/test-service';
import { newUserId } from '../support/wallet';

const DAY_MS = 86_400_000;
const clock = new TestClock(new Date('2030-01-01T00:00:00.000Z'));
let svc: TestService;
let db: Connection;

useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { HOLD_SWEEP_INTERVAL_MS: '0' },
  { clock },
);

describe('AuthorizeRedemption', () => {
  it('holds the amount: the balance stays, the available balance drops, the hold lasts 7 days by default', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const hold = await authorize(svc.api, card, 1_200n, { orderId: 'order-77' });
    expect(hold).toEqual({
      holdId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      giftCardId: card.giftCardId,
      heldAmount: 1_200n,
      balance: 5_000n,
      availableBalance: 3_800n,
      currency: 'USD',
      expireTime: new Date(clock.now().getTime() + 7 * DAY_MS),
      partial: false,
    });
    expect(await svc.api.balanceInquiry(credentialsOf(card))).toMatchObject({
      balance: 5_000n,
      availableBalance: 3_800n,
    });
    expect(await entryCountOf(db, card.giftCardId)).toBe(1);
    expect(await holdRow(db, hold.holdId)).toMatchObject({ status: 'ACTIVE', createdAt: clock.now(), closedAt: null });
    expect(await holdEventsOf(db, hold.holdId)).toEqual([['PLACED', -1_200n, 3_800n, clock.now()]]);
  });

  it('lasts the requested hold_duration', async () => {
    const card = await issueCard(svc.api);
    const hold = await authorize(svc.api, card, 10n, { holdDuration: durationOf(90_500) });
    expect(hold.expireTime).toEqual(new Date(clock.now().getTime() + 90_500));
  });

  it('never outlasts the card: a hold ends at the card’s own expire time', async () => {
    const cardExpiry = new Date(clock.now().getTime() + DAY_MS);
    const card = await issueCard(svc.api, { expireTime: cardExpiry });
    expect((await authorize(svc.api, card, 10n)).expireTime).toEqual(cardExpiry);
  });

  it.each([
    ['shorter than a second', durationOf(999)],
    ['longer than HOLD_MAX_DURATION_MS (30 days)', durationOf(30 * DAY_MS + 1)],
    ['negative', { seconds: -5n, nanos: 0 }],
    ['malformed (nanos out of range)', { seconds: 10n, nanos: 1_000_000_000 }],
  ])('refuses a hold_duration %s with INVALID_ARGUMENT', async (_case, holdDuration) => {
    const card = await issueCard(svc.api);
    const error = await rpcError(authorize(svc.api, card, 10n, { holdDuration }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['holdDuration']);
  });

  it('refuses more than the available balance with INSUFFICIENT_FUNDS, saying what is available, and holds nothing', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    await authorize(svc.api, card, 700n);
    const error = await rpcError(authorize(svc.api, card, 301n));
    expect(error).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'INSUFFICIENT_FUNDS',
      metadata: { balance: '1000', availableBalance: '300', requested: '301' },
    });
    expect(await svc.api.balanceInquiry(credentialsOf(card))).toMatchObject({
      balance: 1_000n,
      availableBalance: 300n,
    });
  });

  it('holds what is available when allow_partial is set, and says so', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    await authorize(svc.api, card, 700n);
    const hold = await authorize(svc.api, card, 500n, { allowPartial: true });
    expect(hold).toMatchObject({ heldAmount: 300n, availableBalance: 0n, partial: true });
    const error = await rpcError(authorize(svc.api, card, 1n, { allowPartial: true }));
    expect(error.reason).toBe('INSUFFICIENT_FUNDS');
  });

  it('names the card as a saved card too', async () => {
    const user = newUserId();
    const card = await issueCard(svc.api, { amount: 500n, userId: user });
    const hold = await svc.api.authorizeRedemption({
      idempotencyKey: newKey(),
      giftCardId: card.giftCardId,
      userId: user,
      amount: 200n,
      currency: 'USD',
    });
    expect(hold).toMatchObject({ giftCardId: card.giftCardId, availableBalance: 300n });
    const stranger = await rpcError(
      svc.api.authorizeRedemption({
        idempotencyKey: newKey(),
        giftCardId: card.giftCardId,
        userId: newUserId(),
        amount: 1n,
        currency: 'USD',
      }),
    );
    expect(stranger).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
  });

  it('refuses a wrong passcode exactly as a redemption does', async () => {
    const card = await issueCard(svc.api);
    const wrong = card.passcode === '00000000' ? '11111111' : '00000000';
    const error = await rpcError(authorize(svc.api, { cardNumber: card.cardNumber, passcode: wrong }, 10n));
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'INVALID_CARD_CREDENTIALS' });
  });

  it('refuses a currency other than the card’s, and an expired or closed card', async () => {
    const euro = await issueCard(svc.api, { currency: 'EUR' });
    expect((await rpcError(authorize(svc.api, euro, 10n))).reason).toBe('CURRENCY_MISMATCH');
    const lapsed = await issueCard(svc.api);
    await expireDirectly(db, lapsed.giftCardId);
    expect((await rpcError(authorize(svc.api, lapsed, 10n))).reason).toBe('CARD_EXPIRED');
    const closed = await issueCard(svc.api, { amount: 100n });
    await svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      ...credentialsOf(closed),
      currency: 'USD',
      isDeleteSourceCard: true,
    });
    expect((await rpcError(authorize(svc.api, closed, 10n))).reason).toBe('CARD_NOT_ACTIVE');
  });

  it('allows at most 50 active holds per card (RESOURCE_EXHAUSTED), and one more once one is released', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const holds = [];
    for (let i = 0; i < 50; i++) holds.push(await authorize(svc.api, card, 1n));
    const error = await rpcError(authorize(svc.api, card, 1n));
    expect(error).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      reason: 'HOLD_LIMIT_REACHED',
      metadata: { maxActiveHolds: '50' },
    });
    await svc.api.voidHold({ idempotencyKey: newKey(), holdId: holds[0]!.holdId });
    expect((await authorize(svc.api, card, 1n)).availableBalance).toBe(950n);
  });

  it('requires an idempotency key, and refuses amount 0', async () => {
    const card = await issueCard(svc.api);
    const error = await rpcError(svc.api.authorizeRedemption({ ...credentialsOf(card), amount: 0n, currency: 'USD' }));
    expect(error.fieldViolations.map((v) => v.field).sort()).toEqual(['amount', 'idempotencyKey']);
  });

  it('places one hold for a repeated key, answering alike; another request with the key is IDEMPOTENCY_KEY_REUSED', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 400n, currency: 'USD' };
    const answers = await Promise.all(Array.from({ length: 5 }, () => svc.api.authorizeRedemption(request)));
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect((await svc.api.balanceInquiry(credentialsOf(card))).availableBalance).toBe(600n);
    const reused = await rpcError(svc.api.authorizeRedemption({ ...request, amount: 401n }));
    expect(reused).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'IDEMPOTENCY_KEY_REUSED' });
  });
});
