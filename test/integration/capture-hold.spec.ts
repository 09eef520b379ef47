import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { entriesOf } from '../support/direct-rows';
import { authorize, durationOf, holdRow } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { rpcError } from '../support/rpc-error';
import { TestClock } from '../support/test-clock';
import type { TestService } from '../support/test-service';

const clock = new TestClock(new Date('2030-02-01T00:00:00.000Z'));
let svc: TestService;
let db: Connection;

useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { HOLD_SWEEP_INTERVAL_MS: '0' },
  { clock },
);

const capture = (holdId: string, amount = 0n, idempotencyKey = newKey()) =>
  svc.api.captureHold({ idempotencyKey, holdId, amount });

describe('CaptureHold', () => {
  it('takes the whole hold by default as a REDEEM entry naming the hold and the order', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const hold = await authorize(svc.api, card, 1_500n, { orderId: 'order-9' });
    const captured = await capture(hold.holdId);
    expect(captured).toEqual({
      transactionId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      holdId: hold.holdId,
      giftCardId: card.giftCardId,
      capturedAmount: 1_500n,
      releasedAmount: 0n,
      balance: 3_500n,
      availableBalance: 3_500n,
      currency: 'USD',
    });
    const [, entry] = await entriesOf(db, card.giftCardId);
    expect(entry).toMatchObject({ publicId: captured.transactionId, type: 'REDEEM', amount: -1_500n });
    expect(await holdRow(db, hold.holdId)).toMatchObject({
      status: 'CAPTURED',
      capturedMinor: 1_500n,
      closedAt: clock.now(),
    });
  });

  it('takes part of the hold and releases the rest', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const hold = await authorize(svc.api, card, 1_000n);
    await authorize(svc.api, card, 2_000n);
    const captured = await capture(hold.holdId, 600n);
    expect(captured).toMatchObject({
      capturedAmount: 600n,
      releasedAmount: 400n,
      balance: 4_400n,
      // The other hold of 2,000 still counts.
      availableBalance: 2_400n,
    });
  });

  it('refuses more than the hold holds with CAPTURE_EXCEEDS_HOLD and changes nothing', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const hold = await authorize(svc.api, card, 1_000n);
    const error = await rpcError(capture(hold.holdId, 1_001n));
    expect(error).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'CAPTURE_EXCEEDS_HOLD',
      metadata: { held: '1000', requested: '1001' },
    });
    expect((await holdRow(db, hold.holdId)).status).toBe('ACTIVE');
    expect(await entriesOf(db, card.giftCardId)).toHaveLength(1);
  });

  it('captures a hold once: a second capture, or a capture after a void, is HOLD_NOT_ACTIVE', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const captured = await authorize(svc.api, card, 100n);
    await capture(captured.holdId);
    expect(await rpcError(capture(captured.holdId))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'HOLD_NOT_ACTIVE',
      metadata: { holdId: captured.holdId, status: 'CAPTURED' },
    });
    const voided = await authorize(svc.api, card, 100n);
    await svc.api.voidHold({ idempotencyKey: newKey(), holdId: voided.holdId });
    expect(await rpcError(capture(voided.holdId))).toMatchObject({
      reason: 'HOLD_NOT_ACTIVE',
      metadata: { status: 'VOIDED' },
    });
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(4_900n);
  });

  it('refuses a hold at its expire time with HOLD_EXPIRED, though no sweeper has marked it', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const hold = await authorize(svc.api, card, 700n, { holdDuration: durationOf(60_000) });
    clock.set(hold.expireTime!);
    try {
      expect(await rpcError(capture(hold.holdId))).toMatchObject({
        code: status.FAILED_PRECONDITION,
        reason: 'HOLD_EXPIRED',
        metadata: { holdId: hold.holdId, expireTime: hold.expireTime!.toISOString() },
      });
    } finally {
      clock.advance(1);
    }
    // The refusal rolled back with everything else it did; the next call on the card records the expiry.
    expect((await svc.api.balanceInquiry(credentialsOf(card))).availableBalance).toBe(5_000n);
    expect(await holdRow(db, hold.holdId)).toMatchObject({ status: 'EXPIRED', closedAt: hold.expireTime });
  });

  it('captures a hold one millisecond before its expire time', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const hold = await authorize(svc.api, card, 700n, { holdDuration: durationOf(60_000) });
    clock.set(new Date(hold.expireTime!.getTime() - 1));
    expect((await capture(hold.holdId)).capturedAmount).toBe(700n);
    clock.advance(1);
  });

  it('gives a capture that a refund can name like any redemption', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const captured = await capture((await authorize(svc.api, card, 800n)).holdId);
    const refunded = await svc.api.refund({
      idempotencyKey: newKey(),
      transactionId: captured.transactionId,
      amount: 300n,
      currency: 'USD',
    });
    expect(refunded).toMatchObject({ refundedAmount: 300n, balance: 4_500n, refundableAmount: 500n });
  });

  it('answers NOT_FOUND HOLD_NOT_FOUND for an unknown hold and INVALID_ARGUMENT for a malformed id', async () => {
    expect(await rpcError(capture('00000000-0000-4000-8000-000000000000'))).toMatchObject({
      code: status.NOT_FOUND,
      reason: 'HOLD_NOT_FOUND',
    });
    const malformed = await rpcError(capture('not-a-hold'));
    expect(malformed.fieldViolations.map((v) => v.field)).toEqual(['holdId']);
    const negative = await rpcError(capture('00000000-0000-4000-8000-000000000000', -1n));
    expect(negative.fieldViolations.map((v) => v.field)).toEqual(['amount']);
  });

  it('requires an idempotency key and replays a repeated one, capturing once', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    const hold = await authorize(svc.api, card, 800n);
    expect((await rpcError(svc.api.captureHold({ holdId: hold.holdId }))).fieldViolations.map((v) => v.field)).toEqual([
      'idempotencyKey',
    ]);
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 5 }, () => capture(hold.holdId, 0n, key)));
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await entriesOf(db, card.giftCardId)).toHaveLength(2);
  });
});
