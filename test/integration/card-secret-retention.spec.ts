import type { Connection, RowDataPacket } from 'mysql2/promise';
import { newKey } from '../support/builders';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';

/**
 * Issue 10, point 7: a stored reply that holds a new card's number and passcode keeps them only
 * as long as a caller may still need to retry. After the window a replay still tells the outcome
 * (the card, its balance, the entry) without the secrets, and the database no longer holds them.
 */
let svc: TestService;
let db: Connection;

const WINDOW_MS = 1_000;

useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { CARD_SECRET_REPLAY_WINDOW_MS: String(WINDOW_MS) },
);

const issueWith = (key: string) =>
  svc.api.issueVirtualCard({ idempotencyKey: key, amount: 500n, currency: 'USD', sourceTransactionId: `p-${key}` });

describe('Card secrets in stored replies', () => {
  it('replays a new card’s number and passcode within the window, and only the rest after it', async () => {
    const key = newKey();
    const first = await issueWith(key);
    expect(await issueWith(key)).toEqual(first);
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 200));
    expect(await issueWith(key)).toEqual({ ...first, cardNumber: '', passcode: '' });
  });

  it('erases the sealed secrets from the record once the window is over', async () => {
    const key = newKey();
    await issueWith(key);
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 200));
    await svc.service.sweepExpired();
    const [[row]] = await db.query<RowDataPacket[]>(
      'SELECT sealed_secrets, sealed_response IS NOT NULL AS has_reply FROM idempotency_record WHERE idempotency_key = ?',
      [key],
    );
    expect(row).toMatchObject({ sealed_secrets: null, has_reply: 1 });
  });
});

describe('Reissued credentials in stored replies', () => {
  it('replays them to the owner within the window, then only the rest, and erases them from the record', async () => {
    const owner = `owner-${newKey()}`;
    const card = await svc.api.issueVirtualCard({
      idempotencyKey: newKey(),
      amount: 500n,
      currency: 'USD',
      sourceTransactionId: `p-${newKey()}`,
      userId: owner,
    });
    const request = { idempotencyKey: newKey(), giftCardId: card.giftCardId, userId: owner };
    const first = await svc.api.reissueCredentials(request);
    expect(await svc.api.reissueCredentials(request)).toEqual(first);
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 200));
    expect(await svc.api.reissueCredentials(request)).toEqual({ ...first, cardNumber: '', passcode: '' });
    await svc.service.sweepExpired();
    const [[row]] = await db.query<RowDataPacket[]>(
      'SELECT sealed_secrets, sealed_response IS NOT NULL AS has_reply FROM idempotency_record WHERE idempotency_key = ?',
      [request.idempotencyKey],
    );
    expect(row).toMatchObject({ sealed_secrets: null, has_reply: 1 });
  });
});
