import { status } from '@grpc/grpc-js';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { authorize } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { rpcError } from '../support/rpc-error';
import type { TestService } from '../support/test-service';
import { newUserId } from '../support/wallet';

let svc: TestService;

useTestService((started) => {
  ({ svc } = started);
});

/** A card of `balance` with `held` of it on hold, saved to a user so wallet operations can name it. */
async function heldCard(balance: bigint, held: bigint) {
  const userId = newUserId();
  const card = await issueCard(svc.api, { amount: balance, userId });
  const hold = await authorize(svc.api, card, held);
  return { ...card, userId, hold };
}

describe('Available balance: every spending path sees only the balance less active holds', () => {
  it('BalanceInquiry shows the balance and the available balance', async () => {
    const card = await heldCard(1_000n, 400n);
    expect(await svc.api.balanceInquiry(credentialsOf(card))).toMatchObject({
      balance: 1_000n,
      availableBalance: 600n,
    });
    expect(await svc.api.balanceInquiry({ giftCardId: card.giftCardId, userId: card.userId })).toMatchObject({
      availableBalance: 600n,
    });
  });

  it('Redeem refuses what only the balance covers, and a partial redemption takes the available balance', async () => {
    const card = await heldCard(1_000n, 400n);
    const refused = await rpcError(
      svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 601n, currency: 'USD' }),
    );
    expect(refused).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'INSUFFICIENT_FUNDS',
      metadata: { balance: '1000', availableBalance: '600', requested: '601' },
    });
    const partial = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 900n,
      currency: 'USD',
      allowPartial: true,
    });
    expect(partial).toMatchObject({ redeemedAmount: 600n, balance: 400n, availableBalance: 0n, partial: true });
    // The hold still gets everything it was promised.
    expect((await svc.api.captureHold({ idempotencyKey: newKey(), holdId: card.hold.holdId })).balance).toBe(0n);
  });

  it('Reload and Refund answer with the available balance', async () => {
    const card = await heldCard(1_000n, 400n);
    const reloaded = await svc.api.reload({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 100n,
      currency: 'USD',
      sourceTransactionId: newKey(),
    });
    expect(reloaded).toMatchObject({ balance: 1_100n, availableBalance: 700n });
    const redeemed = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 50n,
      currency: 'USD',
    });
    expect(redeemed).toMatchObject({ balance: 1_050n, availableBalance: 650n });
    const refunded = await svc.api.refund({
      idempotencyKey: newKey(),
      transactionId: redeemed.transactionId,
      amount: 50n,
      currency: 'USD',
    });
    expect(refunded).toMatchObject({ balance: 1_100n, availableBalance: 700n });
  });

  it('BalanceTransfer moves at most the available balance', async () => {
    const card = await heldCard(1_000n, 400n);
    const transfer = (amount: bigint) =>
      svc.api.balanceTransfer({ idempotencyKey: newKey(), ...credentialsOf(card), amount, currency: 'USD' });
    expect((await rpcError(transfer(601n))).reason).toBe('INSUFFICIENT_FUNDS');
    expect(await transfer(600n)).toMatchObject({
      balance: 600n,
      availableBalance: 600n,
      sourceBalance: 400n,
      sourceAvailableBalance: 0n,
    });
  });

  it('a new hold sees the available balance left by the other holds', async () => {
    const card = await heldCard(1_000n, 400n);
    expect((await rpcError(authorize(svc.api, card, 601n))).reason).toBe('INSUFFICIENT_FUNDS');
    expect((await authorize(svc.api, card, 600n)).availableBalance).toBe(0n);
  });
});

describe('HOLDS_OUTSTANDING: a card with active holds is not retired or handed over', () => {
  it('refuses a transfer that deletes its source, until the hold is released', async () => {
    const card = await heldCard(1_000n, 1n);
    const deleting = () =>
      svc.api.balanceTransfer({
        idempotencyKey: newKey(),
        ...credentialsOf(card),
        currency: 'USD',
        isDeleteSourceCard: true,
      });
    expect(await rpcError(deleting())).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'HOLDS_OUTSTANDING',
      metadata: { giftCardId: card.giftCardId, activeHolds: '1', held: '1' },
    });
    await svc.api.voidHold({ idempotencyKey: newKey(), holdId: card.hold.holdId });
    expect((await deleting()).balance).toBe(1_000n);
  });

  it('refuses a combine source with active holds, and lets a target keep its holds', async () => {
    const source = await heldCard(300n, 100n);
    const target = await issueCard(svc.api, { amount: 50n, userId: source.userId });
    const combine = (targetId: string, sourceId: string) =>
      svc.api.combineCards({
        idempotencyKey: newKey(),
        userId: source.userId,
        targetGiftCardId: targetId,
        sourceGiftCardIds: [sourceId],
      });
    expect(await rpcError(combine(target.giftCardId, source.giftCardId))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'HOLDS_OUTSTANDING',
      metadata: { giftCardId: source.giftCardId },
    });
    expect(await combine(source.giftCardId, target.giftCardId)).toMatchObject({
      balance: 350n,
      availableBalance: 250n,
    });
  });

  it('refuses to gift an existing card with active holds', async () => {
    const card = await heldCard(300n, 100n);
    const error = await rpcError(
      svc.api.giftDigitalCard({
        idempotencyKey: newKey(),
        userId: card.userId,
        recipientUserId: newUserId(),
        giftCardId: card.giftCardId,
      }),
    );
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'HOLDS_OUTSTANDING' });
  });
});
