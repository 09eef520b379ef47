import type { Connection, RowDataPacket } from 'mysql2/promise';

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
