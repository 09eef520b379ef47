import { credentials, loadPackageDefinition, status, type ClientReadableStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { Connection } from 'mysql2/promise';
import type { GiftCardApi } from '../support/api';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { assertLedgerInvariants, entryCountOf } from '../support/ledger-invariants';
import { settle } from '../support/rpc-error';
import { rawConnection, testDatabaseName } from '../support/test-database';
import { waitForLockWaits } from '../support/lock-waits';
import { ServiceUnderTest } from './support/service-under-test';
import { SETUP_WITH_BUILD_TIMEOUT_MS } from './support/server-build';

/** Calls wait on the held row for as long as the test holds it, never timing out on their own. */
const PATIENT = { DB_LOCK_WAIT_TIMEOUT_SECONDS: '60' };
const CALL_DEADLINE_MS = 60_000;
/** Liveness only: the logs must show the signal was taken before the test lets the calls proceed. */
const LOG_TIMEOUT_MS = 30_000;

let sut: ServiceUnderTest;
let api: GiftCardApi;
let db: Connection;
let locker: Connection;

beforeAll(async () => {
  sut = await ServiceUnderTest.start({ env: PATIENT });
  api = sut.newApi();
  db = await rawConnection();
  locker = await rawConnection();
}, SETUP_WITH_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await locker.end();
  await db.end();
  await sut.close();
});

afterEach(async () => {
  await locker.query('ROLLBACK');
  if (!sut.running) await sut.restart();
  await assertLedgerInvariants(db);
});

/**
 * Holds the cards' row locks, so a call on each waits inside the database, where the test can
 * count it. One call per card: a second on the same card would wait in its line in the service.
 */
async function holdRowLocks(cards: readonly { giftCardId: string }[]): Promise<void> {
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM gift_card WHERE public_id IN (?) FOR UPDATE', [
    cards.map((card) => card.giftCardId),
  ]);
}

async function entryCountOfAll(cards: readonly { giftCardId: string }[]): Promise<number> {
  let count = 0;
  for (const card of cards) count += await entryCountOf(db, card.giftCardId);
  return count;
}

async function waitForLog(pattern: RegExp, from: number): Promise<void> {
  const giveUpAt = Date.now() + LOG_TIMEOUT_MS;
  while (!pattern.test(sut.logs.text().slice(from))) {
    if (Date.now() > giveUpAt) throw new Error(`the server never logged ${String(pattern)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const redeemOf = (card: { cardNumber: string; passcode: string }) => ({
  idempotencyKey: newKey(),
  ...credentialsOf(card),
  amount: 100n,
  currency: 'USD',
});

describe('SIGTERM under load', () => {
  it('drains the calls in flight: each is answered and applied, then the process exits 0', async () => {
    const cards = await Promise.all(Array.from({ length: 5 }, () => issueCard(api, { amount: 1_000n })));
    await holdRowLocks(cards);
    const calls = cards.map((card) => settle(api.redeem(redeemOf(card), { deadlineMs: CALL_DEADLINE_MS })));
    await waitForLockWaits(db, testDatabaseName(), 5);
    const logged = sut.logs.text().length;
    const stopped = sut.stopWith('SIGTERM');
    await waitForLog(/"signal":"SIGTERM","message":"shutting down"/, logged);
    await locker.query('ROLLBACK');
    const outcomes = await Promise.all(calls);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true, true]);
    expect(await stopped).toMatchObject({ code: 0, signal: null });
    expect(await entryCountOfAll(cards)).toBe(10);
  });

  it('exits once the grace period is over even while calls stay blocked; a retry applies each once', async () => {
    await sut.stopWith('SIGTERM');
    const graceMs = 1_500;
    await sut.restart({ SHUTDOWN_GRACE_MS: String(graceMs) });
    const cards = [await issueCard(api, { amount: 1_000n }), await issueCard(api, { amount: 1_000n })];
    await holdRowLocks(cards);
    const requests = cards.map(redeemOf);
    const calls = requests.map((request) => settle(api.redeem(request, { deadlineMs: CALL_DEADLINE_MS })));
    await waitForLockWaits(db, testDatabaseName(), 2);
    // Grace, plus the bounded pool close, plus a wide margin for a loaded machine.
    expect(await sut.stopWith('SIGTERM', graceMs + 15_000)).toMatchObject({ code: 0, signal: null });
    for (const outcome of await Promise.all(calls)) {
      expect(outcome.ok ? 'answered' : outcome.error).toMatchObject({
        code: status.UNAVAILABLE,
        reason: 'SHUTTING_DOWN',
      });
    }
    await locker.query('ROLLBACK');
    await sut.restart();
    for (const request of requests) await api.redeem(request);
    expect(await entryCountOfAll(cards)).toBe(4);
  });

  it('ends health Watch streams on SIGTERM, so a watcher cannot hold the drain for the grace period', async () => {
    await sut.stopWith('SIGTERM');
    const graceMs = 30_000;
    await sut.restart({ SHUTDOWN_GRACE_MS: String(graceMs) });
    const pkg = loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String })) as unknown as {
      grpc: {
        health: {
          v1: {
            Health: new (
              address: string,
              creds: ReturnType<typeof credentials.createInsecure>,
            ) => { Watch(request: { service: string }): ClientReadableStream<{ status: string }>; close(): void };
          };
        };
      };
    };
    const watcher = new pkg.grpc.health.v1.Health(sut.address, credentials.createInsecure());
    const seen: string[] = [];
    const stream = watcher.Watch({ service: '' });
    const ended = new Promise<void>((resolve) => {
      stream.on('data', (message: { status: string }) => seen.push(message.status));
      stream.on('error', () => {
        resolve();
      });
      stream.on('end', () => {
        resolve();
      });
    });
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    // Far below the grace period, far above a drain's usual 0.1 s on a loaded machine.
    const stopped = await sut.stopWith('SIGTERM', graceMs / 3);
    expect(stopped).toMatchObject({ code: 0, signal: null });
    await ended;
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
    watcher.close();
  });
});
