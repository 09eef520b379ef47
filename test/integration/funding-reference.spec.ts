import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { useTestService } from '../support/integration-hooks';
import { rpcError, settle } from '../support/rpc-error';
import type { TestService } from '../support/test-service';

/**
 * Issue 10, point 2: a purchase funds once. The attack: the same `sourceTransactionId` sent with
 * two different idempotency keys funded two cards.
 */
let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

const purchase = (): string => `purchase-${randomUUID()}`;

async function entriesReferencing(reference: string): Promise<number> {
  const [[row]] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM ledger_entry WHERE external_ref = ?', [
    reference,
  ]);
  return Number(row?.n);
}

const issueWith = (reference: string, key = newKey()) =>
  svc.api.issueVirtualCard({
    idempotencyKey: key,
    amount: 1_000_000n,
    currency: 'USD',
    sourceTransactionId: reference,
  });

const reloadWith = (card: { cardNumber: string; passcode: string }, reference: string, key = newKey()) =>
  svc.api.reload({
    idempotencyKey: key,
    ...credentialsOf(card),
    amount: 10n,
    currency: 'USD',
    sourceTransactionId: reference,
  });

const giftWith = (reference: string, key = newKey()) =>
  svc.api.giftDigitalCard({
    idempotencyKey: key,
    userId: 'gift-sender',
    recipientUserId: 'gift-recipient',
    amount: 500n,
    currency: 'USD',
    sourceTransactionId: reference,
  });

describe('Funding reference', () => {
  it('funds one card per purchase: a second IssueVirtualCard with the reference and another key is refused', async () => {
    const reference = purchase();
    await issueWith(reference);
    expect(await rpcError(issueWith(reference))).toMatchObject({
      code: status.ALREADY_EXISTS,
      reason: 'SOURCE_TRANSACTION_USED',
    });
    expect(await entriesReferencing(reference)).toBe(1);
  });

  it('refuses a reference already used by any funding: issue, reload or a new-card gift', async () => {
    const card = await issueCard(svc.api);
    const reference = purchase();
    await reloadWith(card, reference);
    for (const reuse of [() => reloadWith(card, reference), () => issueWith(reference), () => giftWith(reference)]) {
      expect(await rpcError(reuse())).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'SOURCE_TRANSACTION_USED' });
    }
    const gifted = purchase();
    await giftWith(gifted);
    expect(await rpcError(reloadWith(card, gifted))).toMatchObject({ reason: 'SOURCE_TRANSACTION_USED' });
    expect(await entriesReferencing(reference)).toBe(1);
    expect(await entriesReferencing(gifted)).toBe(1);
  });

  it('still replays the same key and request instead of refusing it', async () => {
    const reference = purchase();
    const key = newKey();
    const first = await issueWith(reference, key);
    expect(await issueWith(reference, key)).toEqual(first);
    expect(await entriesReferencing(reference)).toBe(1);
  });

  it('lets exactly one of 10 concurrent fundings with one reference through', async () => {
    const reference = purchase();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => settle(issueWith(reference))));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    const refusals = outcomes.flatMap((o) => (o.ok ? [] : [o.error.reason]));
    expect(refusals).toEqual(Array<string>(9).fill('SOURCE_TRANSACTION_USED'));
    expect(await entriesReferencing(reference)).toBe(1);
  });

  it('leaves the reference of a refused funding unused, so it can fund once the cause is fixed', async () => {
    const card = await issueCard(svc.api, { amount: 999_995n });
    const reference = purchase();
    expect((await rpcError(reloadWith(card, reference))).reason).toBe('BALANCE_LIMIT_EXCEEDED');
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' });
    await reloadWith(card, reference);
    expect(await entriesReferencing(reference)).toBe(1);
  });

  it('does not apply to a refund, whose reference names the cancellation, not a purchase', async () => {
    const card = await issueCard(svc.api);
    const redemption = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 100n,
      currency: 'USD',
    });
    const cancellation = `cancel-${randomUUID()}`;
    for (let i = 0; i < 2; i++) {
      await svc.api.refund({
        idempotencyKey: newKey(),
        transactionId: redemption.transactionId,
        amount: 10n,
        currency: 'USD',
        sourceTransactionId: cancellation,
      });
    }
    expect(await entriesReferencing(cancellation)).toBe(2);
  });
});
