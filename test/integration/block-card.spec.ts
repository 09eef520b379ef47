import { status } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { OperationType, ReversalOutcome } from '../../gen/giftcard/v1/reversal';
import { credentialsOf, issueCard, newKey, newPurchase } from '../support/builders';
import { closeDirectly, entriesOf } from '../support/direct-rows';
import { authorize } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { rpcError } from '../support/rpc-error';
import type { TestService } from '../support/test-service';
import { newUserId } from '../support/wallet';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

const block = (giftCardId: string, reason = 'reported stolen') => svc.api.blockCard({ giftCardId, reason });
const unblock = (giftCardId: string, reason = 'found by the owner') => svc.api.unblockCard({ giftCardId, reason });

/** Every refusal a blocked card gives: FAILED_PRECONDITION with its own reason, naming the card. */
const blockedRefusal = (giftCardId: string) => ({
  code: status.FAILED_PRECONDITION,
  reason: 'CARD_BLOCKED',
  metadata: expect.objectContaining({ giftCardId }) as unknown,
});

async function statusChangesOf(giftCardId: string): Promise<{ status: string; reason: string; caller: string }[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT s.status, s.reason, s.caller FROM card_status_change s JOIN gift_card c ON c.id = s.card_id
     WHERE c.public_id = ? ORDER BY s.id`,
    [giftCardId],
  );
  return rows.map((row) => ({ status: String(row.status), reason: String(row.reason), caller: String(row.caller) }));
}

describe('BlockCard', () => {
  it('blocks an active card, keeps the reason and who asked, and inquiry says BLOCKED', async () => {
    const card = await issueCard(svc.api, { amount: 4_000n });
    const blocked = await block(card.giftCardId, 'reported stolen, case 7731');
    expect(blocked).toMatchObject({
      giftCardId: card.giftCardId,
      status: GiftCardStatus.GIFT_CARD_STATUS_BLOCKED,
      blockReason: 'reported stolen, case 7731',
      balance: 4_000n,
      availableBalance: 4_000n,
      currency: 'USD',
    });
    expect(blocked.blockTime).toBeInstanceOf(Date);
    expect(await statusChangesOf(card.giftCardId)).toEqual([
      { status: 'BLOCKED', reason: 'reported stolen, case 7731', caller: 'anonymous' },
    ]);
    const inquiry = await svc.api.balanceInquiry(credentialsOf(card));
    expect(inquiry).toMatchObject({ status: GiftCardStatus.GIFT_CARD_STATUS_BLOCKED, balance: 4_000n });
  });

  it('changes nothing when the card is already blocked, and answers with the first block reason', async () => {
    const card = await issueCard(svc.api);
    await block(card.giftCardId, 'first report');
    const again = await block(card.giftCardId, 'second report');
    expect(again).toMatchObject({ status: GiftCardStatus.GIFT_CARD_STATUS_BLOCKED, blockReason: 'first report' });
    expect(await statusChangesOf(card.giftCardId)).toHaveLength(1);
  });

  it('refuses a closed card with CARD_NOT_ACTIVE and an unknown card with NOT_FOUND', async () => {
    const card = await issueCard(svc.api);
    await closeDirectly(db, card.giftCardId);
    expect(await rpcError(block(card.giftCardId))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'CARD_NOT_ACTIVE',
    });
    expect(await rpcError(block('00000000-0000-4000-8000-000000000000'))).toMatchObject({
      code: status.NOT_FOUND,
      reason: 'CARD_NOT_FOUND',
    });
  });

  it('refuses a request without a reason as INVALID_ARGUMENT', async () => {
    const card = await issueCard(svc.api);
    expect(await rpcError(svc.api.blockCard({ giftCardId: card.giftCardId }))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      fieldViolations: [expect.objectContaining({ field: 'reason' })],
    });
  });
});

describe('A blocked card refuses every operation that moves money onto or off it, with CARD_BLOCKED', () => {
  it('refuses redeem and reload, by credentials and by saved card, and changes nothing', async () => {
    const owner = newUserId('owner');
    const card = await issueCard(svc.api, { amount: 5_000n, userId: owner });
    await block(card.giftCardId);
    const refusals = [
      svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' }),
      svc.api.redeem({
        idempotencyKey: newKey(),
        giftCardId: card.giftCardId,
        userId: owner,
        amount: 100n,
        currency: 'USD',
      }),
      svc.api.reload({
        idempotencyKey: newKey(),
        ...credentialsOf(card),
        amount: 100n,
        currency: 'USD',
        sourceTransactionId: newPurchase(),
      }),
    ];
    for (const refusal of refusals) expect(await rpcError(refusal)).toMatchObject(blockedRefusal(card.giftCardId));
    expect((await entriesOf(db, card.giftCardId)).map((entry) => entry.type)).toEqual(['ISSUE']);
  });

  it('refuses a balance transfer from it, plain or deleting it', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    await block(card.giftCardId);
    for (const request of [
      { amount: 1_000n, isDeleteSourceCard: false },
      { amount: 0n, isDeleteSourceCard: true },
    ]) {
      const refusal = svc.api.balanceTransfer({
        idempotencyKey: newKey(),
        ...credentialsOf(card),
        currency: 'USD',
        ...request,
      });
      expect(await rpcError(refusal)).toMatchObject(blockedRefusal(card.giftCardId));
    }
    expect(await entriesOf(db, card.giftCardId)).toHaveLength(1);
  });

  it('refuses to combine it, as a source or as the target', async () => {
    const user = newUserId('combiner');
    const blocked = await issueCard(svc.api, { amount: 1_000n, userId: user });
    const other = await issueCard(svc.api, { amount: 2_000n, userId: user });
    await block(blocked.giftCardId);
    const asSource = svc.api.combineCards({
      idempotencyKey: newKey(),
      userId: user,
      targetGiftCardId: other.giftCardId,
      sourceGiftCardIds: [blocked.giftCardId],
    });
    expect(await rpcError(asSource)).toMatchObject(blockedRefusal(blocked.giftCardId));
    const asTarget = svc.api.combineCards({
      idempotencyKey: newKey(),
      userId: user,
      targetGiftCardId: blocked.giftCardId,
      sourceGiftCardIds: [other.giftCardId],
    });
    expect(await rpcError(asTarget)).toMatchObject(blockedRefusal(blocked.giftCardId));
    expect(await entriesOf(db, other.giftCardId)).toHaveLength(1);
  });

  it('refuses to gift it', async () => {
    const sender = newUserId('sender');
    const card = await issueCard(svc.api, { amount: 1_000n, userId: sender });
    await block(card.giftCardId);
    const gift = svc.api.giftDigitalCard({
      idempotencyKey: newKey(),
      userId: sender,
      recipientUserId: newUserId('recipient'),
      giftCardId: card.giftCardId,
    });
    expect(await rpcError(gift)).toMatchObject(blockedRefusal(card.giftCardId));
    const wallet = await svc.api.listGiftCards({ userId: sender });
    expect(wallet.giftCards.map((saved) => saved.giftCardId)).toEqual([card.giftCardId]);
  });

  it('refuses to authorize a hold on it, and to capture a hold placed before the block', async () => {
    const card = await issueCard(svc.api, { amount: 3_000n });
    const hold = await authorize(svc.api, card, 1_000n);
    await block(card.giftCardId);
    expect(await rpcError(authorize(svc.api, card, 500n))).toMatchObject(blockedRefusal(card.giftCardId));
    const capture = svc.api.captureHold({ idempotencyKey: newKey(), holdId: hold.holdId });
    expect(await rpcError(capture)).toMatchObject(blockedRefusal(card.giftCardId));
    expect((await svc.api.balanceInquiry(credentialsOf(card))).availableBalance).toBe(2_000n);
  });

  it('refuses a refund onto it', async () => {
    const card = await issueCard(svc.api, { amount: 3_000n });
    const redemption = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 700n,
      currency: 'USD',
    });
    await block(card.giftCardId);
    const refund = svc.api.refund({
      idempotencyKey: newKey(),
      transactionId: redemption.transactionId,
      amount: 700n,
      currency: 'USD',
    });
    expect(await rpcError(refund)).toMatchObject(blockedRefusal(card.giftCardId));
  });
});

describe('A blocked card still answers inquiry and history, and allows VoidHold and ReverseOperation', () => {
  it('voids a hold placed before the block and makes the amount available again', async () => {
    const card = await issueCard(svc.api, { amount: 3_000n });
    const hold = await authorize(svc.api, card, 1_000n);
    await block(card.giftCardId);
    const voided = await svc.api.voidHold({ idempotencyKey: newKey(), holdId: hold.holdId });
    expect(voided).toMatchObject({ releasedAmount: 1_000n, balance: 3_000n, availableBalance: 3_000n });
    const inquiry = await svc.api.balanceInquiry(credentialsOf(card));
    expect(inquiry).toMatchObject({ status: GiftCardStatus.GIFT_CARD_STATUS_BLOCKED, availableBalance: 3_000n });
  });

  it('reverses a redemption made before the block, crediting the blocked card', async () => {
    const card = await issueCard(svc.api, { amount: 3_000n });
    const key = newKey();
    await svc.api.redeem({ idempotencyKey: key, ...credentialsOf(card), amount: 1_200n, currency: 'USD' });
    await block(card.giftCardId);
    const reversal = await svc.api.reverseOperation({
      operationType: OperationType.OPERATION_TYPE_REDEEM,
      idempotencyKey: key,
    });
    expect(reversal.outcome).toBe(ReversalOutcome.REVERSAL_OUTCOME_REVERSED);
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(3_000n);
  });

  it('lists its history', async () => {
    const card = await issueCard(svc.api, { amount: 3_000n });
    await block(card.giftCardId);
    const history = await svc.api.listCardActivities(credentialsOf(card));
    expect(history.activities).toHaveLength(1);
  });
});

describe('UnblockCard', () => {
  it('makes a blocked card ACTIVE again and it moves money as before; the unblock is kept too', async () => {
    const card = await issueCard(svc.api, { amount: 3_000n });
    await block(card.giftCardId, 'reported stolen');
    const unblocked = await unblock(card.giftCardId, 'owner found it');
    expect(unblocked).toMatchObject({ status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE, balance: 3_000n });
    const redeemed = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 500n,
      currency: 'USD',
    });
    expect(redeemed.balance).toBe(2_500n);
    expect(await authorize(svc.api, card, 100n)).toMatchObject({ heldAmount: 100n });
    expect(await statusChangesOf(card.giftCardId)).toEqual([
      { status: 'BLOCKED', reason: 'reported stolen', caller: 'anonymous' },
      { status: 'ACTIVE', reason: 'owner found it', caller: 'anonymous' },
    ]);
  });

  it('changes nothing on a card that is not blocked', async () => {
    const card = await issueCard(svc.api);
    expect(await unblock(card.giftCardId)).toMatchObject({ status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE });
    expect(await statusChangesOf(card.giftCardId)).toEqual([]);
  });

  it('does not reopen a closed card', async () => {
    const card = await issueCard(svc.api);
    await closeDirectly(db, card.giftCardId);
    expect(await rpcError(unblock(card.giftCardId))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'CARD_NOT_ACTIVE',
    });
  });
});
