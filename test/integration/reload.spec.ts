import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey, newPurchase } from '../support/builders';
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
  { MAX_BALANCE_MINOR: '100000' },
);

const reloadOf = (card: { cardNumber: string; passcode: string }, amount: bigint, currency = 'USD') => ({
  idempotencyKey: newKey(),
  ...credentialsOf(card),
  amount,
  currency,
  sourceTransactionId: newPurchase(),
});

describe('Reload', () => {
  it('adds the amount and returns the reload entry and the new balance', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const result = await svc.api.reload(reloadOf(card, 500n));
    expect(result).toMatchObject({ giftCardId: card.giftCardId, balance: 1_500n, currency: 'USD' });
    expect(await entryCountOf(db, card.giftCardId)).toBe(2);
  });

  it('refuses a reload that would pass the maximum balance, and changes nothing', async () => {
    const card = await issueCard(svc.api, { amount: 99_000n });
    const error = await rpcError(svc.api.reload(reloadOf(card, 1_001n)));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'BALANCE_LIMIT_EXCEEDED' });
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(99_000n);
    expect((await svc.api.reload(reloadOf(card, 1_000n))).balance).toBe(100_000n);
  });

  it('refuses a huge int64 amount without overflowing', async () => {
    const card = await issueCard(svc.api, { amount: 1n });
    const error = await rpcError(svc.api.reload(reloadOf(card, 2n ** 63n - 1n)));
    expect(error.reason).toBe('BALANCE_LIMIT_EXCEEDED');
  });

  it('refuses another currency with CURRENCY_MISMATCH', async () => {
    const card = await issueCard(svc.api, { currency: 'GBP' });
    const error = await rpcError(svc.api.reload(reloadOf(card, 100n, 'EUR')));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CURRENCY_MISMATCH' });
  });

  it('refuses a card past its expiry with CARD_EXPIRED', async () => {
    const card = await issueCard(svc.api, { expireTime: new Date(Date.now() + 60_000) });
    await db.query('UPDATE gift_card SET expires_at = ? WHERE public_id = ?', [
      new Date(Date.now() - 1000),
      card.giftCardId,
    ]);
    const error = await rpcError(svc.api.reload(reloadOf(card, 100n)));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_EXPIRED' });
  });

  it('refuses a card that is not ACTIVE with CARD_NOT_ACTIVE', async () => {
    const card = await issueCard(svc.api);
    await db.query("UPDATE gift_card SET status = 'DEACTIVATED' WHERE public_id = ?", [card.giftCardId]);
    const error = await rpcError(svc.api.reload(reloadOf(card, 100n)));
    expect(error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_NOT_ACTIVE' });
  });

  it('requires the funding purchase reference', async () => {
    const card = await issueCard(svc.api);
    const error = await rpcError(svc.api.reload({ ...reloadOf(card, 100n), sourceTransactionId: '' }));
    expect(error.fieldViolations.map((v) => v.field)).toEqual(['sourceTransactionId']);
  });
});
