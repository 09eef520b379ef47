import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { authorize, durationOf, holdEventsOf, holdRow } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { entryCountOf } from '../support/ledger-invariants';
import { rpcError } from '../support/rpc-error';
import { TestClock } from '../support/test-clock';
import type { TestService } from '../support/test-service';

const clock = new TestClock(new Date('2030-03-01T00:00:00.000Z'));
let svc: TestService;
let db: Connection;

useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { HOLD_SWEEP_INTERVAL_MS: '0' },
  { clock },
);

const voidHold = (holdId: string, idempotencyKey = newKey()) => svc.api.voidHold({ idempotencyKey, holdId });

describe('VoidHold', () => {
  it('releases the whole hold: the balance never moved, the available balance is back', async () => {
    const card = await issueCard(svc.api, { amount: 2_000n });
    const hold = await authorize(svc.api, card, 1_500n);
    clock.advance(5_000);
    expect(await voidHold(hold.holdId)).toEqual({
      holdId: hold.holdId,
      giftCardId: card.giftCardId,
      releasedAmount: 1_500n,
      balance: 2_000n,
      availableBalance: 2_000n,
      currency: 'USD',
    });
    expect(await entryCountOf(db, card.giftCardId)).toBe(1);
    expect(await holdRow(db, hold.holdId)).toMatchObject({
      status: 'VOIDED',
      capturedMinor: null,
      closedAt: clock.now(),
    });
    expect((await holdEventsOf(db, hold.holdId)).map(([type, amount, available]) => [type, amount, available])).toEqual(
      [
        ['PLACED', -1_500n, 500n],
        ['VOIDED', 1_500n, 2_000n],
      ],
    );
  });

  it('refuses a hold already voided or captured with HOLD_NOT_ACTIVE', async () => {
    const card = await issueCard(svc.api, { amount: 2_000n });
    const voided = await authorize(svc.api, card, 100n);
    await voidHold(voided.holdId);
    expect(await rpcError(voidHold(voided.holdId))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'HOLD_NOT_ACTIVE',
      metadata: { status: 'VOIDED' },
    });
    const captured = await authorize(svc.api, card, 100n);
    await svc.api.captureHold({ idempotencyKey: newKey(), holdId: captured.holdId });
    expect(await rpcError(voidHold(captured.holdId))).toMatchObject({
      reason: 'HOLD_NOT_ACTIVE',
      metadata: { status: 'CAPTURED' },
    });
  });

  it('refuses an expired hold with HOLD_EXPIRED', async () => {
    const card = await issueCard(svc.api, { amount: 2_000n });
    const hold = await authorize(svc.api, card, 100n, { holdDuration: durationOf(1_000) });
    clock.advance(1_000);
    expect(await rpcError(voidHold(hold.holdId))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'HOLD_EXPIRED',
    });
  });

  it('answers HOLD_NOT_FOUND for an unknown hold', async () => {
    expect(await rpcError(voidHold('00000000-0000-4000-8000-000000000000'))).toMatchObject({
      code: status.NOT_FOUND,
      reason: 'HOLD_NOT_FOUND',
    });
  });

  it('requires an idempotency key and replays a repeated one', async () => {
    const card = await issueCard(svc.api, { amount: 2_000n });
    const hold = await authorize(svc.api, card, 300n);
    expect((await rpcError(svc.api.voidHold({ holdId: hold.holdId }))).fieldViolations.map((v) => v.field)).toEqual([
      'idempotencyKey',
    ]);
    const key = newKey();
    const first = await voidHold(hold.holdId, key);
    expect(await voidHold(hold.holdId, key)).toEqual(first);
    expect((await svc.api.balanceInquiry(credentialsOf(card))).availableBalance).toBe(2_000n);
  });
});
