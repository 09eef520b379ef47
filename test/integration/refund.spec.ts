import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { closeDirectly, expireDirectly } from '../support/direct-rows';
import { entryCountOf } from '../support/ledger-invariants';
import { rpcError, settle } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

async function redeemedCard(balance: bigint, redeemAmount: bigint) {
  const card = await issueCard(svc.api, { amount: balance });
  const redemption = await svc.api.redeem({
    idempotencyKey: newKey(),
    ...credentialsOf(card),
    amount: redeemAmount,
    currency: 'USD',
  });
  return { card, redemption };
}

const refundOf = (transactionId: string, amount: bigint, currency = 'USD') => ({
  idempotencyKey: newKey(),
  transactionId,
  amount,
  currency,
});

describe('Refund', () => {
  it('gives back part of a redemption to the card and reports what is left to refund', async () => {
    const { card, redemption } = await redeemedCard(1_000n, 600n);
    const result = await svc.api.refund(refundOf(redemption.transactionId, 250n));
    expect(result).toMatchObject({
      giftCardId: card.giftCardId,
      redeemedGiftCardId: card.giftCardId,
      refundedAmount: 250n,
      balance: 650n,
      refundableAmount: 350n,
      redirected: false,
    });
  });

  it('allows several partial refunds up to what the redemption took, never more in total', async () => {
    const { redemption } = await redeemedCard(1_000n, 600n);
    await svc.api.refund(refundOf(redemption.transactionId, 400n));
    await svc.api.refund(refundOf(redemption.transactionId, 200n));
    const error = await rpcError(svc.api.refund(refundOf(redemption.transactionId, 1n)));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'REFUND_EXCEEDS_REDEMPTION' });
  });

  it('refuses a refund larger than the redemption', async () => {
    const { card, redemption } = await redeemedCard(1_000n, 600n);
    const error = await rpcError(svc.api.refund(refundOf(redemption.transactionId, 601n)));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'REFUND_EXCEEDS_REDEMPTION' });
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(400n);
  });

  it('lets concurrent partial refunds of one redemption add up to at most what it took', async () => {
    const { card, redemption } = await redeemedCard(1_000n, 500n);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => settle(svc.api.refund(refundOf(redemption.transactionId, 100n)))),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(5);
    expect(outcomes.flatMap((o) => (o.ok ? [] : [o.error.reason]))).toEqual(Array(5).fill('REFUND_EXCEEDS_REDEMPTION'));
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(1_000n);
  });

  it('still credits a card past its expiry: a refund gives back what the card held', async () => {
    const { card, redemption } = await redeemedCard(1_000n, 600n);
    await expireDirectly(db, card.giftCardId);
    expect(await svc.api.refund(refundOf(redemption.transactionId, 600n))).toMatchObject({
      giftCardId: card.giftCardId,
      balance: 1_000n,
    });
  });

  // Written behind the API: today only a transfer or a combine makes a card inactive, and both
  // name a successor that the refund follows past it. A card closed by an operator, or blocked
  // (issue 14), stays at the end of its own chain.
  it('refuses to credit a card closed without a successor with CARD_NOT_ACTIVE, and refunds nothing', async () => {
    const { card, redemption } = await redeemedCard(1_000n, 600n);
    await closeDirectly(db, card.giftCardId);
    const error = await rpcError(svc.api.refund(refundOf(redemption.transactionId, 100n)));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_NOT_ACTIVE' });
    expect(await entryCountOf(db, card.giftCardId)).toBe(2);
  });

  it('refuses a transaction that is not a redemption with NOT_A_REDEMPTION', async () => {
    const card = await issueCard(svc.api);
    const error = await rpcError(svc.api.refund(refundOf(card.transactionId, 1n)));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'NOT_A_REDEMPTION' });
  });

  it('refuses a refund of a refund with NOT_A_REDEMPTION', async () => {
    const { redemption } = await redeemedCard(1_000n, 600n);
    const refund = await svc.api.refund(refundOf(redemption.transactionId, 100n));
    const error = await rpcError(svc.api.refund(refundOf(refund.transactionId, 1n)));
    expect(error.reason).toBe('NOT_A_REDEMPTION');
  });

  it('answers an unknown transaction id with NOT_FOUND', async () => {
    const error = await rpcError(svc.api.refund(refundOf('00000000-0000-4000-8000-000000000000', 1n)));
    expect(error).toMatchObject({ code: status.NOT_FOUND, reason: 'TRANSACTION_NOT_FOUND' });
  });

  it('refuses a currency other than the redemption’s', async () => {
    const { redemption } = await redeemedCard(1_000n, 600n);
    const error = await rpcError(svc.api.refund(refundOf(redemption.transactionId, 100n, 'EUR')));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CURRENCY_MISMATCH' });
  });

  it('refuses a malformed transaction id or a non-positive amount with INVALID_ARGUMENT', async () => {
    const error = await rpcError(svc.api.refund(refundOf('not-an-id', 0n)));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.fieldViolations.map((v) => v.field).sort()).toEqual(['amount', 'transactionId']);
  });

  it('replays a retried refund instead of refunding twice', async () => {
    const { card, redemption } = await redeemedCard(1_000n, 600n);
    const request = refundOf(redemption.transactionId, 300n);
    const first = await svc.api.refund(request);
    expect(await svc.api.refund(request)).toEqual(first);
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(700n);
  });
});
