import { status } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { GiftCardApi } from '../support/api';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { assertLedgerInvariants, entryCountOf } from '../support/ledger-invariants';
import { rpcError } from '../support/rpc-error';
import { rawConnection, testDatabaseName } from '../support/test-database';
import { waitForLockWaits } from '../support/lock-waits';
import { ServiceUnderTest } from './support/service-under-test';
import type { Outage } from './support/tcp-proxy';
import { SETUP_WITH_BUILD_TIMEOUT_MS } from './support/server-build';

/** Liveness bound for health to follow the database; detection itself takes about 1-3 s. */
const HEALTH_TIMEOUT_MS = 30_000;

let sut: ServiceUnderTest;
let api: GiftCardApi;
let db: Connection;
let locker: Connection;

beforeAll(async () => {
  sut = await ServiceUnderTest.start();
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
  sut.database.restore();
  await locker.query('ROLLBACK');
  await assertLedgerInvariants(db);
});

const outages: Outage[] = ['refuse', 'blackhole'];

/** The service's connections to the run's database, as an admin session sees them. */
async function serviceConnections(): Promise<bigint[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID NOT IN (CONNECTION_ID(), ?)',
    [testDatabaseName(), (await locker.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id'))[0][0]?.id],
  );
  return rows.map((row) => BigInt(String(row.ID)));
}

describe('When an admin kills every database connection of the service', () => {
  it('stays SERVING: its health probe reconnects rather than report a killed connection as an outage', async () => {
    const card = await issueCard(api, { amount: 1_000n });
    const killed = await serviceConnections();
    expect(killed.length).toBeGreaterThan(0);
    const logged = sut.logs.text().length;
    for (const id of killed) await db.query(`KILL CONNECTION ${id.toString()}`);
    // No call is made meanwhile, so the first new connection is the health probe's own.
    const newest = Math.max(...killed.map(Number));
    const giveUpAt = Date.now() + HEALTH_TIMEOUT_MS;
    while (!(await serviceConnections()).some((id) => Number(id) > newest)) {
      if (Date.now() > giveUpAt) throw new Error('the health probe never reconnected');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await sut.health.check()).toBe('SERVING');
    expect(sut.logs.text().slice(logged)).not.toContain('database unreachable');
    expect((await api.balanceInquiry(credentialsOf(card))).balance).toBe(1_000n);
  });
});

describe('While the database is unreachable', () => {
  it.each(outages)(
    '(%s) health reports NOT_SERVING, calls fail at once with UNAVAILABLE, and the service serves again by itself',
    async (outage) => {
      const card = await issueCard(api, { amount: 1_000n });
      const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' };
      sut.database.cut(outage);
      await sut.health.waitFor('NOT_SERVING', HEALTH_TIMEOUT_MS);
      expect(await rpcError(api.redeem(request, { deadlineMs: 5_000 }))).toMatchObject({
        code: status.UNAVAILABLE,
        reason: 'DATABASE_UNAVAILABLE',
      });
      expect(await rpcError(api.balanceInquiry(credentialsOf(card), { deadlineMs: 5_000 }))).toMatchObject({
        code: status.UNAVAILABLE,
        reason: 'DATABASE_UNAVAILABLE',
      });
      sut.database.restore();
      await sut.health.waitFor('SERVING', HEALTH_TIMEOUT_MS);
      expect((await api.redeem(request)).balance).toBe(900n);
      expect(await entryCountOf(db, card.giftCardId)).toBe(2);
    },
  );

  it.each(outages)(
    '(%s) a call caught inside the database is answered UNAVAILABLE or ABORTED before its deadline, and applies once on retry',
    async (outage) => {
      const card = await issueCard(api, { amount: 1_000n });
      const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' };
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [card.giftCardId]);
      const call = rpcError(api.redeem(request, { deadlineMs: 4_000 }));
      await waitForLockWaits(db, testDatabaseName(), 1);
      sut.database.cut(outage);
      expect([status.UNAVAILABLE, status.ABORTED]).toContain((await call).code);
      await locker.query('ROLLBACK');
      sut.database.restore();
      await sut.health.waitFor('SERVING', HEALTH_TIMEOUT_MS);
      expect((await api.redeem(request)).balance).toBe(900n);
      expect(await entryCountOf(db, card.giftCardId)).toBe(2);
    },
  );
});
