import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { OperationType, ReversalOutcome } from '../../gen/giftcard/v1/reversal';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { entriesOf } from '../support/direct-rows';
import { authorize, durationOf, holdRow } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { rpcError, settleDefinitely } from '../support/rpc-error';
import { TestClock } from '../support/test-clock';
import type { TestService } from '../support/test-service';
import { newUserId } from '../support/wallet';

const clock = new TestClock(new Date('2030-06-01T00:00:00.000Z'));
let svc: TestService;
let db: Connection;

useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { HOLD_SWEEP_INTERVAL_MS: '0' },
  { clock },
);

const reverse = (operationType: OperationType, idempotencyKey: string) =>
  svc.api.reverseOperation({ operationType, idempotencyKey });

type Card = { cardNumber: string; passcode: string; giftCardId: string };

function redeemRequest(card: Card, amount: bigint, idempotencyKey = newKey()) {
  return { idempotencyKey, ...credentialsOf(card), amount, currency: 'USD', orderId: 'order-r' };
}

const balanceOf = async (card: Card) => svc.api.balanceInquiry(credentialsOf(card));

describe('ReverseOperation', () => {
  it('credits a redemption back, says what it undid, and leaves nothing of it to refund', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const request = redeemRequest(card, 300n);
    const redeemed = await svc.api.redeem(request);
    const reversed = await reverse(OperationType.OPERATION_TYPE_REDEEM, request.idempotencyKey);
    expect(reversed).toEqual({
      outcome: ReversalOutcome.REVERSAL_OUTCOME_REVERSED,
      operationType: OperationType.OPERATION_TYPE_REDEEM,
      giftCardId: card.giftCardId,
      reversedAmount: 300n,
      transactionId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      reversedTransactionId: redeemed.transactionId,
      holdId: '',
      balance: 1_000n,
      availableBalance: 1_000n,
      currency: 'USD',
    });
    expect((await entriesOf(db, card.giftCardId)).map((e) => [e.type, e.amount])).toEqual([
      ['ISSUE', 1_000n],
      ['REDEEM', -300n],
      ['REVERSAL', 300n],
    ]);
    const refund = await rpcError(
      svc.api.refund({ idempotencyKey: newKey(), transactionId: redeemed.transactionId, amount: 1n, currency: 'USD' }),
    );
    expect(refund).toMatchObject({ reason: 'REFUND_EXCEEDS_REDEMPTION', metadata: { refundable: '0' } });
  });

  it('answers the same when reversing again, and changes nothing more', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const request = redeemRequest(card, 300n);
    await svc.api.redeem(request);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => reverse(OperationType.OPERATION_TYPE_REDEEM, request.idempotencyKey)),
    );
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await reverse(OperationType.OPERATION_TYPE_REDEEM, request.idempotencyKey)).toEqual(answers[0]);
    expect((await entriesOf(db, card.giftCardId)).filter((e) => e.type === 'REVERSAL')).toHaveLength(1);
    expect((await balanceOf(card)).balance).toBe(1_000n);
  });

  it('refuses any later call with a reversed key: OPERATION_REVERSED, not the first answer', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const request = redeemRequest(card, 300n);
    await svc.api.redeem(request);
    await reverse(OperationType.OPERATION_TYPE_REDEEM, request.idempotencyKey);
    for (const retry of [request, { ...request, amount: 1n }]) {
      expect(await rpcError(svc.api.redeem(retry))).toMatchObject({
        code: status.ALREADY_EXISTS,
        reason: 'OPERATION_REVERSED',
      });
    }
    expect((await balanceOf(card)).balance).toBe(1_000n);
  });

  it('records a key that never arrived as reversed, says nothing was found, and refuses the late original', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const request = redeemRequest(card, 300n);
    const reversed = await reverse(OperationType.OPERATION_TYPE_REDEEM, request.idempotencyKey);
    expect(reversed).toEqual({
      outcome: ReversalOutcome.REVERSAL_OUTCOME_NOT_FOUND,
      operationType: OperationType.OPERATION_TYPE_REDEEM,
      giftCardId: '',
      reversedAmount: 0n,
      transactionId: '',
      reversedTransactionId: '',
      holdId: '',
      balance: 0n,
      availableBalance: 0n,
      currency: '',
    });
    expect(await rpcError(svc.api.redeem(request))).toMatchObject({
      code: status.ALREADY_EXISTS,
      reason: 'OPERATION_REVERSED',
    });
    expect(await reverse(OperationType.OPERATION_TYPE_REDEEM, request.idempotencyKey)).toEqual(reversed);
    expect(await entriesOf(db, card.giftCardId)).toHaveLength(1);
  });

  it('finds nothing to undo for a call that was refused, as a refused call leaves its key unused', async () => {
    const card = await issueCard(svc.api, { amount: 100n });
    const request = redeemRequest(card, 300n);
    expect((await rpcError(svc.api.redeem(request))).reason).toBe('INSUFFICIENT_FUNDS');
    expect((await reverse(OperationType.OPERATION_TYPE_REDEEM, request.idempotencyKey)).outcome).toBe(
      ReversalOutcome.REVERSAL_OUTCOME_NOT_FOUND,
    );
  });

  it('credits back only what refunds had not given back, and nothing once refunded in full', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const partly = redeemRequest(card, 300n);
    const redeemed = await svc.api.redeem(partly);
    await svc.api.refund({
      idempotencyKey: newKey(),
      transactionId: redeemed.transactionId,
      amount: 100n,
      currency: 'USD',
    });
    expect(await reverse(OperationType.OPERATION_TYPE_REDEEM, partly.idempotencyKey)).toMatchObject({
      reversedAmount: 200n,
      balance: 1_000n,
    });
    const wholly = redeemRequest(card, 50n);
    const other = await svc.api.redeem(wholly);
    await svc.api.refund({
      idempotencyKey: newKey(),
      transactionId: other.transactionId,
      amount: 50n,
      currency: 'USD',
    });
    expect(await rpcError(reverse(OperationType.OPERATION_TYPE_REDEEM, wholly.idempotencyKey))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'REVERSAL_NOT_POSSIBLE',
    });
  });

  it('credits a redemption back to the card that took the redeemed card’s balance', async () => {
    const user = newUserId();
    const [target, source] = [
      await issueCard(svc.api, { amount: 100n, userId: user }),
      await issueCard(svc.api, { amount: 500n, userId: user }),
    ];
    const request = redeemRequest(source, 200n);
    await svc.api.redeem(request);
    await svc.api.combineCards({
      idempotencyKey: newKey(),
      userId: user,
      targetGiftCardId: target.giftCardId,
      sourceGiftCardIds: [source.giftCardId],
    });
    expect(await reverse(OperationType.OPERATION_TYPE_REDEEM, request.idempotencyKey)).toMatchObject({
      giftCardId: target.giftCardId,
      reversedAmount: 200n,
      balance: 600n,
    });
  });

  it('debits a reload back while the available balance allows it, and refuses otherwise', async () => {
    const card = await issueCard(svc.api, { amount: 100n });
    const request = {
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 400n,
      currency: 'USD',
      sourceTransactionId: newKey(),
    };
    await svc.api.reload(request);
    const hold = await authorize(svc.api, card, 200n);
    expect(await rpcError(reverse(OperationType.OPERATION_TYPE_RELOAD, request.idempotencyKey))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'REVERSAL_NOT_POSSIBLE',
      metadata: { availableBalance: '300', reloaded: '400' },
    });
    // The refusal changed nothing: once the hold is released, the same reversal goes through.
    await svc.api.voidHold({ idempotencyKey: newKey(), holdId: hold.holdId });
    expect(await reverse(OperationType.OPERATION_TYPE_RELOAD, request.idempotencyKey)).toMatchObject({
      reversedAmount: 400n,
      balance: 100n,
    });
    expect((await rpcError(svc.api.reload(request))).reason).toBe('OPERATION_REVERSED');
  });

  it('deactivates an issued card nothing else touched and takes its funding back', async () => {
    const idempotencyKey = newKey();
    const issued = await svc.api.issueVirtualCard({
      idempotencyKey,
      amount: 2_500n,
      currency: 'USD',
      sourceTransactionId: newKey(),
    });
    expect(await reverse(OperationType.OPERATION_TYPE_ISSUE_VIRTUAL_CARD, idempotencyKey)).toMatchObject({
      outcome: ReversalOutcome.REVERSAL_OUTCOME_REVERSED,
      giftCardId: issued.giftCardId,
      reversedAmount: 2_500n,
      reversedTransactionId: issued.transactionId,
      balance: 0n,
    });
    expect(await balanceOf(issued)).toMatchObject({ balance: 0n, status: GiftCardStatus.GIFT_CARD_STATUS_DEACTIVATED });
  });

  it('refuses to undo an issue once the card was used, or had a hold', async () => {
    for (const use of [
      (card: Card) => svc.api.redeem(redeemRequest(card, 1n)),
      async (card: Card) =>
        svc.api.voidHold({ idempotencyKey: newKey(), holdId: (await authorize(svc.api, card, 1n)).holdId }),
    ]) {
      const idempotencyKey = newKey();
      const issued = await svc.api.issueVirtualCard({
        idempotencyKey,
        amount: 100n,
        currency: 'USD',
        sourceTransactionId: newKey(),
      });
      await use(issued);
      expect(await rpcError(reverse(OperationType.OPERATION_TYPE_ISSUE_VIRTUAL_CARD, idempotencyKey))).toMatchObject({
        reason: 'REVERSAL_NOT_POSSIBLE',
      });
    }
  });

  it('voids the hold of an authorization; one already expired has nothing left, a captured one is refused', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const open = await authorize(svc.api, card, 300n, { idempotencyKey: 'auth-open-' + newKey() });
    const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 200n, currency: 'USD' };
    const placed = await svc.api.authorizeRedemption(request);
    expect(await reverse(OperationType.OPERATION_TYPE_AUTHORIZE_REDEMPTION, request.idempotencyKey)).toMatchObject({
      outcome: ReversalOutcome.REVERSAL_OUTCOME_REVERSED,
      holdId: placed.holdId,
      reversedAmount: 200n,
      balance: 1_000n,
      availableBalance: 700n,
      transactionId: '',
    });
    expect((await holdRow(db, placed.holdId)).status).toBe('VOIDED');

    const lapsing = {
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 50n,
      currency: 'USD',
      holdDuration: durationOf(1_000),
    };
    await svc.api.authorizeRedemption(lapsing);
    clock.advance(1_000);
    expect(await reverse(OperationType.OPERATION_TYPE_AUTHORIZE_REDEMPTION, lapsing.idempotencyKey)).toMatchObject({
      reversedAmount: 0n,
      availableBalance: 700n,
    });

    const captured = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 10n, currency: 'USD' };
    const toCapture = await svc.api.authorizeRedemption(captured);
    await svc.api.captureHold({ idempotencyKey: newKey(), holdId: toCapture.holdId });
    expect(
      await rpcError(reverse(OperationType.OPERATION_TYPE_AUTHORIZE_REDEMPTION, captured.idempotencyKey)),
    ).toMatchObject({
      reason: 'REVERSAL_NOT_POSSIBLE',
      metadata: { holdId: toCapture.holdId },
    });
    expect((await holdRow(db, open.holdId)).status).toBe('ACTIVE');
  });

  it('credits a capture back; its hold stays captured', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const hold = await authorize(svc.api, card, 400n);
    const idempotencyKey = newKey();
    const captured = await svc.api.captureHold({ idempotencyKey, holdId: hold.holdId, amount: 250n });
    expect(await reverse(OperationType.OPERATION_TYPE_CAPTURE_HOLD, idempotencyKey)).toMatchObject({
      reversedAmount: 250n,
      reversedTransactionId: captured.transactionId,
      balance: 1_000n,
    });
    expect((await holdRow(db, hold.holdId)).status).toBe('CAPTURED');
  });

  it('refuses a key that belongs to another operation, and malformed requests', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const request = redeemRequest(card, 10n);
    await svc.api.redeem(request);
    expect(await rpcError(reverse(OperationType.OPERATION_TYPE_RELOAD, request.idempotencyKey))).toMatchObject({
      code: status.ALREADY_EXISTS,
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
    const unnamed = await rpcError(svc.api.reverseOperation({ idempotencyKey: request.idempotencyKey }));
    expect(unnamed.fieldViolations.map((v) => v.field)).toEqual(['operationType']);
    const keyless = await rpcError(svc.api.reverseOperation({ operationType: OperationType.OPERATION_TYPE_REDEEM }));
    expect(keyless.fieldViolations.map((v) => v.field)).toEqual(['idempotencyKey']);
    expect((await balanceOf(card)).balance).toBe(990n);
  });
});

describe('ReverseOperation racing the late original with the same key', () => {
  it('ends each race reversed with nothing applied, or applied then reversed; never applied and kept', async () => {
    const cards = await Promise.all(Array.from({ length: 12 }, () => issueCard(svc.api, { amount: 1_000n })));
    const races = await Promise.all(
      cards.map(async (card, index) => {
        const request = redeemRequest(card, 100n);
        const original = () => settleDefinitely(() => svc.api.redeem(request));
        const reversal = () =>
          settleDefinitely(() => reverse(OperationType.OPERATION_TYPE_REDEEM, request.idempotencyKey));
        // Half the races send the original first, half the reversal, all at once.
        const [redeemed, reversed] =
          index % 2 === 0
            ? await Promise.all([original(), reversal()])
            : await Promise.all([reversal(), original()]).then(([r, o]) => [o, r] as const);
        const retried = await settleDefinitely(() => svc.api.redeem(request));
        return { card, redeemed, reversed, retried };
      }),
    );
    const seen = new Set<string>();
    for (const { card, redeemed, reversed, retried } of races) {
      if (!reversed.ok) throw new Error(`a reversal failed: ${reversed.error.reason ?? reversed.error.codeName}`);
      const entries = (await entriesOf(db, card.giftCardId)).map((e) => e.type);
      if (reversed.value.outcome === ReversalOutcome.REVERSAL_OUTCOME_NOT_FOUND) {
        seen.add('reversed, nothing applied');
        expect(redeemed.ok ? 'applied' : redeemed.error.reason).toBe('OPERATION_REVERSED');
        expect(entries).toEqual(['ISSUE']);
      } else {
        seen.add('applied, then reversed');
        expect(reversed.value.outcome).toBe(ReversalOutcome.REVERSAL_OUTCOME_REVERSED);
        expect(redeemed.ok).toBe(true);
        expect(entries).toEqual(['ISSUE', 'REDEEM', 'REVERSAL']);
      }
      expect(retried.ok ? 'applied' : retried.error.reason).toBe('OPERATION_REVERSED');
      expect((await balanceOf(card)).balance).toBe(1_000n);
    }
  });
});
