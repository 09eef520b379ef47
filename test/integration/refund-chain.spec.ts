import { credentialsOf, issueCard, newKey } from '../support/builders';
import { rpcError } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';

let svc: TestService;

useTestService((started) => {
  ({ svc } = started);
});

let userCounter = 0;
const newUser = (): string => `refund-chain-${process.pid}-${++userCounter}`;

type Credentials = { cardNumber: string; passcode: string };

async function redeemFrom(card: Credentials, amount: bigint): Promise<string> {
  const result = await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount, currency: 'USD' });
  return result.transactionId;
}

const refund = (transactionId: string, amount: bigint) =>
  svc.api.refund({ idempotencyKey: newKey(), transactionId, amount, currency: 'USD', sourceTransactionId: 'cancel' });

const transferAway = (card: Credentials) =>
  svc.api.balanceTransfer({
    idempotencyKey: newKey(),
    ...credentialsOf(card),
    currency: 'USD',
    isDeleteSourceCard: true,
  });

const balanceOf = async (card: Credentials): Promise<bigint> =>
  (await svc.api.balanceInquiry(credentialsOf(card))).balance;

describe('Refund of a redemption whose card passed its balance on', () => {
  it('credits the new card of a transfer that deleted the source, and says so', async () => {
    const source = await issueCard(svc.api, { amount: 1_000n });
    const redemption = await redeemFrom(source, 300n);
    const moved = await transferAway(source);

    const result = await refund(redemption, 120n);
    expect(result).toMatchObject({
      giftCardId: moved.giftCardId,
      redeemedGiftCardId: source.giftCardId,
      redirected: true,
      refundedAmount: 120n,
      balance: 820n,
      refundableAmount: 180n,
    });
    expect(await balanceOf(moved)).toBe(820n);
    expect(await balanceOf(source)).toBe(0n);
  });

  it('credits the source itself after a transfer that kept it', async () => {
    const source = await issueCard(svc.api, { amount: 1_000n });
    const redemption = await redeemFrom(source, 300n);
    const moved = await svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      ...credentialsOf(source),
      amount: 500n,
      currency: 'USD',
    });

    const result = await refund(redemption, 300n);
    expect(result).toMatchObject({ giftCardId: source.giftCardId, redirected: false, balance: 500n });
    expect(await balanceOf(moved)).toBe(500n);
  });

  it('credits the target of a combine', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 100n, userId: user });
    const source = await issueCard(svc.api, { amount: 1_000n, userId: user });
    const redemption = await redeemFrom(source, 1_000n);
    await svc.api.combineCards({
      idempotencyKey: newKey(),
      userId: user,
      targetGiftCardId: target.giftCardId,
      sourceGiftCardIds: [source.giftCardId],
    });

    const result = await refund(redemption, 1_000n);
    expect(result).toMatchObject({
      giftCardId: target.giftCardId,
      redeemedGiftCardId: source.giftCardId,
      redirected: true,
      balance: 1_100n,
      refundableAmount: 0n,
    });
    expect(await balanceOf(source)).toBe(0n);
  });

  it('follows a chain of transfer then combine to the card holding the money now', async () => {
    const user = newUser();
    const first = await issueCard(svc.api, { amount: 1_000n, userId: user });
    const redemption = await redeemFrom(first, 400n);
    // The new card is saved to the first card's owner, so the owner can combine it.
    const second = await transferAway(first);
    const target = await issueCard(svc.api, { amount: 50n, userId: user });
    await svc.api.combineCards({
      idempotencyKey: newKey(),
      userId: user,
      targetGiftCardId: target.giftCardId,
      sourceGiftCardIds: [second.giftCardId],
    });

    const result = await refund(redemption, 400n);
    expect(result).toMatchObject({
      giftCardId: target.giftCardId,
      redeemedGiftCardId: first.giftCardId,
      redirected: true,
      balance: 1_050n,
    });
    expect([await balanceOf(first), await balanceOf(second), await balanceOf(target)]).toEqual([0n, 0n, 1_050n]);
  });

  it('still never refunds more in total than the redemption took', async () => {
    const source = await issueCard(svc.api, { amount: 1_000n });
    const redemption = await redeemFrom(source, 300n);
    await refund(redemption, 200n);
    await transferAway(source);
    const error = await rpcError(refund(redemption, 101n));
    expect(error.reason).toBe('REFUND_EXCEEDS_REDEMPTION');
    expect((await refund(redemption, 100n)).refundableAmount).toBe(0n);
  });
});
