import type { Connection, RowDataPacket } from 'mysql2/promise';
import { rawConnection, testDatabaseName } from './test-database';

const POLL_MS = 50;

/**
 * Statements of this run's database executing a locking read right now. While a test holds the
 * row those reads want, each of them is a call in flight inside the database, waiting for it.
 */
export async function lockingReadCount(db: Connection, database: string): Promise<number> {
  const [[row]] = await db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
     WHERE DB = ? AND COMMAND = 'Query' AND INFO LIKE '%FOR UPDATE' AND ID <> CONNECTION_ID()`,
    [database],
  );
  return Number(row?.n);
}

/** Waits until `count` calls are inside the database, blocked on a held row: certainly in flight. */
export async function waitForLockWaits(db: Connection, database: string, count: number, timeoutMs = 30_000) {
  const giveUpAt = Date.now() + timeoutMs;
  while ((await lockingReadCount(db, database)) < count) {
    if (Date.now() > giveUpAt) throw new Error(`never saw ${count} calls waiting for a row lock`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Starts calls on one card while another session holds its row lock, and lets them go only once
 * all of them are in flight: the first inside the database, waiting for the lock, and the others
 * waiting in the card's line in the service (`linesWaiting`, read off the service in this
 * process) or inside the database too. Each call has done everything it does before its card's
 * turn before any of them can commit. The calls must settle rather than reject (see `settle`).
 */
export async function startedTogetherOnCardLock<T>(
  giftCardId: string,
  linesWaiting: () => number,
  start: () => Promise<T>[],
): Promise<T[]> {
  const locker = await rawConnection();
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [giftCardId]);
    const calls = start();
    const database = testDatabaseName();
    const giveUpAt = Date.now() + 30_000;
    while ((await lockingReadCount(locker, database)) + linesWaiting() < calls.length) {
      if (Date.now() > giveUpAt) throw new Error(`never saw ${calls.length} calls in flight on the card`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    await locker.query('ROLLBACK');
    return await Promise.all(calls);
  } finally {
    await locker.end();
  }
}
