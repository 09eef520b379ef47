import type { Connection, RowDataPacket } from 'mysql2/promise';
import { createLogger } from '../../src/observability/logger';
import { RetentionSweeper } from '../../src/persistence/retention-sweeper';
import { issueCard, newKey } from '../support/builders';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';

let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

const DAY_MS = 24 * 3_600_000;

async function expiryOf(key: string): Promise<Date | undefined> {
  const [[row]] = await db.query<RowDataPacket[]>(
    'SELECT expires_at FROM idempotency_record WHERE idempotency_key = ?',
    [key],
  );
  return row?.expires_at as Date | undefined;
}

describe('Idempotency retention', () => {
  it('keeps a key at least 24 hours', async () => {
    const key = newKey();
    const before = Date.now();
    await svc.api.issueVirtualCard({ idempotencyKey: key, amount: 1n, currency: 'USD', sourceTransactionId: key });
    const expiresAt = await expiryOf(key);
    expect(expiresAt!.getTime()).toBeGreaterThanOrEqual(before + DAY_MS);
  });

  it('purges keys past their retention and keeps the others', async () => {
    const keep = newKey();
    const expire = newKey();
    await issueCard(svc.api);
    for (const key of [keep, expire]) {
      await svc.api.issueVirtualCard({ idempotencyKey: key, amount: 1n, currency: 'USD', sourceTransactionId: key });
    }
    await db.query('UPDATE idempotency_record SET expires_at = ? WHERE idempotency_key = ?', [
      new Date(Date.now() - 1000),
      expire,
    ]);
    const sweeper = new RetentionSweeper(svc.service.dataSource, createLogger('error'), {
      passcodeCooldownMs: svc.config.passcodeLockoutMs,
      sentEventRetentionMs: null,
    });
    expect((await sweeper.sweep()).idempotencyRecords).toBeGreaterThanOrEqual(1);
    expect(await expiryOf(expire)).toBeUndefined();
    expect(await expiryOf(keep)).toBeDefined();
  });
});
