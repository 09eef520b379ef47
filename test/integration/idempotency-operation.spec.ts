import type { Connection, RowDataPacket } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { entriesOf } from '../support/direct-rows';
import { useTestService } from '../support/integration-hooks';
import { rpcError } from '../support/rpc-error';
import type { TestService } from '../support/test-service';
import { newUserId } from '../support/wallet';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

/** The operation id the key's record names; undefined when no record of the key is stored. */
async function operationOfKey(key: string): Promise<string | null | undefined> {
  const [[row]] = await db.query<RowDataPacket[]>(
    'SELECT operation_id FROM idempotency_record WHERE idempotency_key = ?',
    [key],
  );
  return row === undefined ? undefined : (row.operation_id as string | null);
}

describe('The idempotency record of a request', () => {
  it('names the operation both entries of a transfer carry, though neither carries a caller reference', async () => {
    const source = await issueCard(svc.api, { amount: 5_000n });
    const key = newKey();

    const result = await svc.api.balanceTransfer({
      idempotencyKey: key,
      ...credentialsOf(source),
      amount: 1_200n,
      currency: 'USD',
    });

    const operationId = await operationOfKey(key);
    const written = [...(await entriesOf(db, source.giftCardId)), ...(await entriesOf(db, result.giftCardId))].filter(
      (entry) => entry.operationId === operationId,
    );
    expect(written.map((entry) => entry.publicId).sort()).toEqual(
      [result.debitTransactionId, result.transactionId].sort(),
    );
  });

  it('names the operation every entry of a combine carries, the one its answer returns', async () => {
    const userId = newUserId('combine');
    const target = await issueCard(svc.api, { amount: 1_000n, userId });
    const sources = [
      await issueCard(svc.api, { amount: 300n, userId }),
      await issueCard(svc.api, { amount: 400n, userId }),
    ];
    const key = newKey();

    const result = await svc.api.combineCards({
      idempotencyKey: key,
      userId,
      targetGiftCardId: target.giftCardId,
      sourceGiftCardIds: sources.map((card) => card.giftCardId),
    });

    expect(await operationOfKey(key)).toBe(result.transactionId);
    const combineEntries = (await Promise.all([target, ...sources].map((card) => entriesOf(db, card.giftCardId))))
      .flat()
      .filter((entry) => entry.type.startsWith('COMBINE_'));
    expect(combineEntries).toHaveLength(4);
    expect(new Set(combineEntries.map((entry) => entry.operationId))).toEqual(new Set([result.transactionId]));
  });

  it('names the operation of a redemption, and is not kept for a refused one', async () => {
    const card = await issueCard(svc.api, { amount: 500n });
    const paid = newKey();
    const refused = newKey();

    const redeemed = await svc.api.redeem({
      idempotencyKey: paid,
      ...credentialsOf(card),
      amount: 200n,
      currency: 'USD',
    });
    const refusal = await rpcError(
      svc.api.redeem({ idempotencyKey: refused, ...credentialsOf(card), amount: 900n, currency: 'USD' }),
    );

    expect(refusal.reason).toBe('INSUFFICIENT_FUNDS');
    const entry = (await entriesOf(db, card.giftCardId)).find((e) => e.publicId === redeemed.transactionId);
    expect(await operationOfKey(paid)).toBe(entry?.operationId);
    expect(await operationOfKey(refused)).toBeUndefined();
  });
});
