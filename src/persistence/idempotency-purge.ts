import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';

/** Rows deleted per statement: short deletes keep row locks brief next to live traffic. */
const PURGE_BATCH_ROWS = 1_000;
/** Batches per sweep, so one sweep cannot monopolise a connection after a long outage. */
const MAX_BATCHES_PER_SWEEP = 50;

/**
 * Deletes idempotency records past their retention (never under 24 h, see config). Without it the
 * table grows with every call forever. A failed sweep is logged and retried at the next interval.
 */
export class IdempotencyPurge {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: Logger,
  ) {}

  /** Returns how many records were deleted. */
  async sweep(now: Date = new Date()): Promise<number> {
    let deleted = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_SWEEP; batch++) {
      const result = await this.dataSource.query<{ affectedRows?: number }>(
        'DELETE FROM idempotency_record WHERE expires_at < ? ORDER BY expires_at LIMIT ?',
        [now, PURGE_BATCH_ROWS],
      );
      const affected = result.affectedRows ?? 0;
      deleted += affected;
      if (affected < PURGE_BATCH_ROWS) break;
    }
    return deleted;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.sweep().then(
        (deleted) => {
          if (deleted > 0) this.log.info('purged expired idempotency records', { deleted });
        },
        (error: unknown) => {
          this.log.warn('idempotency purge failed; will retry', { error: String(error) });
        },
      );
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
