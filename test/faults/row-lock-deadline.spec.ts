import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { credentialsOf, issueCard, newKey, newPurchase } from '../support/builders';
import { assertLedgerInvariants, entryCountOf } from '../support/ledger-invariants';
import { rpcError } from '../support/rpc-error';
import { rawConnection } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
/** Lock waits as long as InnoDB's default: only the call's deadline can end the wait in time. */
let patientSvc: TestService;
let db: Connection;
let locker: Connection;

beforeAll(async () => {
  svc = await startTestService();
  patientSvc = await startTestService({ DB_LOCK_WAIT_TIMEOUT_SECONDS: '50' });
  db = await rawConnection();
  locker = await rawConnection();
});

afterAll(async () => {
  await locker.end();
  await db.end();
  await patientSvc.stop();
  await svc.stop();
});

afterEach(async () => {
  await locker.query('ROLLBACK');
  await assertLedgerInvariants(db);
});

/** Another session takes the card's row lock and keeps it until the test rolls back. */
async function holdRowLock(giftCardId: string): Promise<void> {
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [giftCardId]);
}

describe('A call on a card whose row another session holds', () => {
  it.each([
    ['shorter than one lock wait', 1_500],
    ['spanning several lock waits and retries', 5_000],
  ])(
    'fails with ABORTED before a deadline %s, and a retry with the same key applies once',
    async (_label, deadlineMs) => {
      const card = await issueCard(svc.api, { amount: 1_000n });
      await holdRowLock(card.giftCardId);
      const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' };
      const error = await rpcError(svc.api.redeem(request, { deadlineMs }));
      expect(error).toMatchObject({ code: status.ABORTED, reason: 'CONCURRENCY_CONFLICT' });
      await locker.query('ROLLBACK');
      expect((await svc.api.redeem(request)).balance).toBe(900n);
      expect((await svc.api.redeem(request)).balance).toBe(900n);
      expect(await entryCountOf(db, card.giftCardId)).toBe(2);
    },
  );

  it('fails with ABORTED within its deadline even when InnoDB would wait 50 s for the lock', async () => {
    const card = await issueCard(patientSvc.api, { amount: 1_000n });
    await holdRowLock(card.giftCardId);
    const error = await rpcError(
      patientSvc.api.reload(
        {
          idempotencyKey: newKey(),
          ...credentialsOf(card),
          amount: 5n,
          currency: 'USD',
          sourceTransactionId: newPurchase(),
        },
        { deadlineMs: 3_000 },
      ),
    );
    expect(error).toMatchObject({ code: status.ABORTED, reason: 'CONCURRENCY_CONFLICT' });
    const inquiry = await rpcError(patientSvc.api.balanceInquiry(credentialsOf(card), { deadlineMs: 2_000 }));
    expect(inquiry).toMatchObject({ code: status.ABORTED, reason: 'CONCURRENCY_CONFLICT' });
    await locker.query('ROLLBACK');
    expect((await patientSvc.api.balanceInquiry(credentialsOf(card))).balance).toBe(1_000n);
    expect(await entryCountOf(db, card.giftCardId)).toBe(1);
  });
});
