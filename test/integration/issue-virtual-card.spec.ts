import { status } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { isLuhnValid } from '../../src/domain/card-number';
import { issueCard, newKey, newPurchase } from '../support/builders';
import { entryCountOf } from '../support/ledger-invariants';
import { rpcError } from '../support/rpc-error';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';

let svc: TestService;
let db: Connection;

useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { MAX_BALANCE_MINOR: '500000' },
);

const validRequest = () => ({
  idempotencyKey: newKey(),
  amount: 2_500n,
  currency: 'USD',
  sourceTransactionId: newPurchase(),
});

describe('IssueVirtualCard', () => {
  it('returns a Luhn-valid 16-digit number, an 8-digit passcode, the balance and the funding entry', async () => {
    const card = await svc.api.issueVirtualCard(validRequest());
    expect(card.cardNumber).toMatch(/^\d{16}$/);
    expect(isLuhnValid(card.cardNumber)).toBe(true);
    expect(card.passcode).toMatch(/^\d{8}$/);
    expect(card).toMatchObject({ balance: 2_500n, currency: 'USD', status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE });
    expect(card.transactionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(card.giftCardId).not.toContain(card.cardNumber);
    expect(await entryCountOf(db, card.giftCardId)).toBe(1);
  });

  it('stores neither the card number nor the passcode in clear, anywhere in the database', async () => {
    const card = await svc.api.issueVirtualCard(validRequest());
    for (const table of ['gift_card', 'ledger_entry', 'idempotency_record', 'card_access']) {
      const [rows] = await db.query<RowDataPacket[]>(`SELECT * FROM ${table}`);
      const dump = JSON.stringify(rows, (_key, value: unknown) =>
        Buffer.isBuffer(value) ? value.toString('latin1') : value,
      );
      expect(dump).not.toContain(card.cardNumber);
      expect(dump).not.toContain(card.passcode);
    }
  });

  it('replays the first response, number and passcode included, for a retry with the same key', async () => {
    const request = validRequest();
    const first = await svc.api.issueVirtualCard(request);
    const again = await svc.api.issueVirtualCard(request);
    expect(again).toEqual(first);
    const [[row]] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM gift_card WHERE public_id = ?', [
      first.giftCardId,
    ]);
    expect(Number(row?.n)).toBe(1);
  });

  it.each([0n, -100n])('refuses amount %p with INVALID_ARGUMENT', async (amount) => {
    const error = await rpcError(svc.api.issueVirtualCard({ ...validRequest(), amount }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['amount']);
  });

  it('refuses an amount above the maximum balance with BALANCE_LIMIT_EXCEEDED, even near int64 max', async () => {
    for (const amount of [500_001n, 2n ** 63n - 1n]) {
      const error = await rpcError(svc.api.issueVirtualCard({ ...validRequest(), amount }));
      expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'BALANCE_LIMIT_EXCEEDED' });
    }
  });

  it('accepts exactly the maximum balance', async () => {
    expect((await svc.api.issueVirtualCard({ ...validRequest(), amount: 500_000n })).balance).toBe(500_000n);
  });

  it.each(['', 'usd', 'XXY', 'US'])('refuses currency %p with INVALID_ARGUMENT', async (currency) => {
    const error = await rpcError(svc.api.issueVirtualCard({ ...validRequest(), currency }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['currency']);
  });

  it('requires the funding purchase and an idempotency key, naming every missing field at once', async () => {
    const error = await rpcError(svc.api.issueVirtualCard({ amount: 100n, currency: 'USD' }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.fieldViolations.map((v) => v.field).sort()).toEqual(['idempotencyKey', 'sourceTransactionId']);
  });

  it('refuses an idempotency key longer than 64 characters, with control characters or surrounding spaces', async () => {
    for (const idempotencyKey of ['k'.repeat(65), 'tab\tkey', 'trailing-space ']) {
      const error = await rpcError(svc.api.issueVirtualCard({ ...validRequest(), idempotencyKey }));
      expect(error.fieldViolations.map((v) => v.field)).toEqual(['idempotencyKey']);
    }
  });

  it('refuses an expiry in the past', async () => {
    const error = await rpcError(
      svc.api.issueVirtualCard({ ...validRequest(), expireTime: new Date(Date.now() - 1000) }),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['expireTime']);
  });

  it('saves the card to the user given at issue, as its owner', async () => {
    const card = await issueCard(svc.api, { userId: 'user-at-issue' });
    const [rows] = await db.query<RowDataPacket[]>(
      'SELECT a.role FROM card_access a JOIN gift_card c ON c.id = a.card_id WHERE c.public_id = ? AND a.user_id = ?',
      [card.giftCardId, 'user-at-issue'],
    );
    expect(rows.map((r) => r.role as string)).toEqual(['OWNER']);
  });
});
