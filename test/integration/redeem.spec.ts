import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey, newPurchase } from '../support/builders';
import { expireDirectly } from '../support/direct-rows';
import { entryCountOf, ledgerSumOf } from '../support/ledger-invariants';
import { startedTogetherOnCardLock } from '../support/lock-waits';
import { rpcError, settle, settleDefinitely } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

describe('Redeem', () => {
  it('takes the amount off the card and returns the redemption id and the new balance', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const result = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 1_250n,
      currency: 'USD',
      orderId: 'order-1',
    });
    expect(result).toMatchObject({
      giftCardId: card.giftCardId,
      redeemedAmount: 1_250n,
      balance: 3_750n,
      partial: false,
    });
    expect(result.transactionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses more than the balance with INSUFFICIENT_FUNDS and changes nothing', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const error = await rpcError(
      svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 1_001n, currency: 'USD' }),
    );
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'INSUFFICIENT_FUNDS' });
    const balance = await svc.api.balanceInquiry(credentialsOf(card));
    expect(balance.balance).toBe(1_000n);
    expect(await entryCountOf(db, card.giftCardId)).toBe(1);
  });

  it('takes what there is when the request allows a partial redemption, and says how much', async () => {
    const card = await issueCard(svc.api, { amount: 700n });
    const result = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 1_000n,
      currency: 'USD',
      allowPartial: true,
    });
    expect(result).toMatchObject({ redeemedAmount: 700n, balance: 0n, partial: true });
  });

  it('takes a balance one unit short whole as partial, and a balance equal to the amount in full, not partial', async () => {
    const short = await issueCard(svc.api, { amount: 99n });
    const exact = await issueCard(svc.api, { amount: 100n });
    const redeem100 = (card: typeof short) =>
      svc.api.redeem({
        idempotencyKey: newKey(),
        ...credentialsOf(card),
        amount: 100n,
        currency: 'USD',
        allowPartial: true,
      });
    expect(await redeem100(short)).toMatchObject({ redeemedAmount: 99n, balance: 0n, partial: true });
    expect(await redeem100(exact)).toMatchObject({ redeemedAmount: 100n, balance: 0n, partial: false });
  });

  it('refuses a partial redemption of an empty card', async () => {
    const card = await issueCard(svc.api, { amount: 100n });
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' });
    const error = await rpcError(
      svc.api.redeem({
        idempotencyKey: newKey(),
        ...credentialsOf(card),
        amount: 1n,
        currency: 'USD',
        allowPartial: true,
      }),
    );
    expect(error.reason).toBe('INSUFFICIENT_FUNDS');
  });

  it('refuses a card past its expiry with CARD_EXPIRED and takes nothing', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    await expireDirectly(db, card.giftCardId);
    const error = await rpcError(
      svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 10n, currency: 'USD' }),
    );
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_EXPIRED' });
    expect(await entryCountOf(db, card.giftCardId)).toBe(1);
  });

  it.each([0n, -1n, -(2n ** 63n)])('refuses amount %p with INVALID_ARGUMENT naming the field', async (amount) => {
    const card = await issueCard(svc.api);
    const error = await rpcError(
      svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount, currency: 'USD' }),
    );
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['amount']);
  });

  it('refuses a currency other than the card’s with CURRENCY_MISMATCH', async () => {
    const card = await issueCard(svc.api, { currency: 'EUR' });
    const error = await rpcError(
      svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 10n, currency: 'USD' }),
    );
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CURRENCY_MISMATCH' });
  });

  it('refuses an unknown currency code with INVALID_ARGUMENT', async () => {
    const card = await issueCard(svc.api);
    const error = await rpcError(
      svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 10n, currency: 'XYZ' }),
    );
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['currency']);
  });

  it('requires an idempotency key', async () => {
    const card = await issueCard(svc.api);
    const error = await rpcError(svc.api.redeem({ ...credentialsOf(card), amount: 10n, currency: 'USD' }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['idempotencyKey']);
  });

  it('lets exactly as many of 50 concurrent redemptions succeed as the balance covers', async () => {
    const card = await issueCard(svc.api, { amount: 2_000n });
    const outcomes = await Promise.all(
      // One key per redemption, resent when a burst is turned away, as callers do.
      Array.from({ length: 50 }, () => {
        const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' };
        return settleDefinitely(() => svc.api.redeem(request));
      }),
    );
    const succeeded = outcomes.filter((o) => o.ok);
    const refusals = outcomes.flatMap((o) => (o.ok ? [] : [o.error.reason]));
    expect(succeeded).toHaveLength(20);
    expect(refusals).toEqual(Array(30).fill('INSUFFICIENT_FUNDS'));
    const balance = await svc.api.balanceInquiry(credentialsOf(card));
    expect(balance.balance).toBe(0n);
    expect(await ledgerSumOf(db, card.giftCardId)).toBe(0n);
  });

  it('applies 20 concurrent identical calls with one idempotency key once, answering all alike', async () => {
    const card = await issueCard(svc.api, { amount: 2_000n });
    const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 150n, currency: 'USD' };
    const responses = await Promise.all(Array.from({ length: 20 }, () => svc.api.redeem(request)));
    for (const response of responses) expect(response).toEqual(responses[0]);
    expect(await entryCountOf(db, card.giftCardId)).toBe(2);
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(1_850n);
  });

  it('refuses the same idempotency key with another amount with IDEMPOTENCY_KEY_REUSED', async () => {
    const card = await issueCard(svc.api, { amount: 2_000n });
    const idempotencyKey = newKey();
    await svc.api.redeem({ idempotencyKey, ...credentialsOf(card), amount: 150n, currency: 'USD' });
    const error = await rpcError(
      svc.api.redeem({ idempotencyKey, ...credentialsOf(card), amount: 151n, currency: 'USD' }),
    );
    expect(error).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await entryCountOf(db, card.giftCardId)).toBe(2);
  });

  it('answers two calls racing with one key and different amounts: one redeems, the other IDEMPOTENCY_KEY_REUSED', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const idempotencyKey = newKey();
    // Both find the key unused and queue on the card's lock; the second to get it finds the key
    // taken by the first's commit and must judge its own request against the winner's record.
    const outcomes = await startedTogetherOnCardLock(
      card.giftCardId,
      () => svc.service.app.cardLines.waiting(),
      () =>
        [100n, 200n].map((amount) =>
          settle(svc.api.redeem({ idempotencyKey, ...credentialsOf(card), amount, currency: 'USD' })),
        ),
    );
    const answers = outcomes.map((o) => (o.ok ? o.value.redeemedAmount : o.error.reason));
    // Whichever call got the lock first redeemed its own amount; the other was refused.
    expect([
      [100n, 'IDEMPOTENCY_KEY_REUSED'],
      ['IDEMPOTENCY_KEY_REUSED', 200n],
    ]).toContainEqual(answers);
    const taken = answers.find((answer) => typeof answer === 'bigint') as bigint;
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(1_000n - taken);
  });

  it('leaves the key of a refused request unused, so a retry after the cause is fixed succeeds', async () => {
    const card = await issueCard(svc.api, { amount: 100n });
    const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 150n, currency: 'USD' };
    expect((await rpcError(svc.api.redeem(request))).reason).toBe('INSUFFICIENT_FUNDS');
    await svc.api.reload({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 100n,
      currency: 'USD',
      sourceTransactionId: newPurchase(),
    });
    expect((await svc.api.redeem(request)).balance).toBe(50n);
  });
});
