import { status } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { ActivityType } from '../../gen/giftcard/v1/card_activity';
import { AdjustmentReason } from '../../gen/giftcard/v1/card_lifecycle';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { entriesOf } from '../support/direct-rows';
import { authorize } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { rpcError } from '../support/rpc-error';
import type { TestService } from '../support/test-service';

let svc: TestService;
let db: Connection;

/** Small enough that a test reaches it with a few calls. */
const MAX_BALANCE = 10_000n;

useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { MAX_BALANCE_MINOR: MAX_BALANCE.toString() },
);

function adjust(giftCardId: string, amount: bigint, overrides: Record<string, unknown> = {}) {
  return svc.api.adjustBalance({
    idempotencyKey: newKey(),
    giftCardId,
    amount,
    currency: 'USD',
    reason: AdjustmentReason.ADJUSTMENT_REASON_SYSTEM_ERROR,
    note: 'duplicate charge at POS 14, ticket 9921',
    ...overrides,
  });
}

async function adjustmentRowOf(transactionId: string): Promise<Record<string, string> | undefined> {
  const [[row]] = await db.query<RowDataPacket[]>(
    `SELECT a.reason_code, a.note, a.caller FROM balance_adjustment a
     JOIN ledger_entry e ON e.id = a.ledger_entry_id WHERE e.public_id = ?`,
    [transactionId],
  );
  return row === undefined
    ? undefined
    : { reason: String(row.reason_code), note: String(row.note), caller: String(row.caller) };
}

describe('AdjustBalance', () => {
  it('credits the card by an ADJUSTMENT entry and keeps the reason, note and caller beside it', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const result = await adjust(card.giftCardId, 250n, { reason: AdjustmentReason.ADJUSTMENT_REASON_GOODWILL });
    expect(result).toMatchObject({
      giftCardId: card.giftCardId,
      amount: 250n,
      balance: 1_250n,
      availableBalance: 1_250n,
      currency: 'USD',
    });
    expect((await entriesOf(db, card.giftCardId)).map((entry) => [entry.type, entry.amount])).toEqual([
      ['ISSUE', 1_000n],
      ['ADJUSTMENT', 250n],
    ]);
    expect(await adjustmentRowOf(result.transactionId)).toEqual({
      reason: 'GOODWILL',
      note: 'duplicate charge at POS 14, ticket 9921',
      caller: 'anonymous',
    });
  });

  it('debits the card by a negative amount, and shows in its history as an adjustment', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const result = await adjust(card.giftCardId, -400n, { reason: AdjustmentReason.ADJUSTMENT_REASON_FRAUD });
    expect(result).toMatchObject({ amount: -400n, balance: 600n });
    const history = await svc.api.listCardActivities(credentialsOf(card));
    expect(history.activities[0]).toMatchObject({
      activityId: result.transactionId,
      type: ActivityType.ACTIVITY_TYPE_ADJUSTMENT,
      amount: -400n,
      balanceAfter: 600n,
    });
  });

  it('keeps the balance within 0 and the maximum balance, and a debit within the available balance', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    expect(await rpcError(adjust(card.giftCardId, -1_001n))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'INSUFFICIENT_FUNDS',
    });
    expect(await rpcError(adjust(card.giftCardId, MAX_BALANCE - 1_000n + 1n))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'BALANCE_LIMIT_EXCEEDED',
    });
    await authorize(svc.api, card, 600n);
    expect(await rpcError(adjust(card.giftCardId, -500n))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'INSUFFICIENT_FUNDS',
    });
    expect((await adjust(card.giftCardId, -400n)).balance).toBe(600n);
    expect(await entriesOf(db, card.giftCardId)).toHaveLength(2);
  });

  it('replays the first answer for the same key and refuses the key for a different adjustment', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const idempotencyKey = newKey();
    const first = await adjust(card.giftCardId, 100n, { idempotencyKey });
    expect(await adjust(card.giftCardId, 100n, { idempotencyKey })).toEqual(first);
    expect(await rpcError(adjust(card.giftCardId, 200n, { idempotencyKey }))).toMatchObject({
      code: status.ALREADY_EXISTS,
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(await entriesOf(db, card.giftCardId)).toHaveLength(2);
  });

  it('refuses a zero amount, a missing reason or note, and another currency', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const malformed = await rpcError(
      adjust(card.giftCardId, 0n, { reason: AdjustmentReason.ADJUSTMENT_REASON_UNSPECIFIED, note: '' }),
    );
    expect(malformed.code).toBe(status.INVALID_ARGUMENT);
    expect(malformed.fieldViolations.map((violation) => violation.field).sort()).toEqual(['amount', 'note', 'reason']);
    expect(await rpcError(adjust(card.giftCardId, 10n, { currency: 'EUR' }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'CURRENCY_MISMATCH',
    });
    expect(await entriesOf(db, card.giftCardId)).toHaveLength(1);
  });

  it('refuses a blocked card with CARD_BLOCKED, like every other money movement', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    await svc.api.blockCard({ giftCardId: card.giftCardId, reason: 'under investigation' });
    expect(await rpcError(adjust(card.giftCardId, 10n))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'CARD_BLOCKED',
    });
  });
});
