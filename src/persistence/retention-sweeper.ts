import type { DataSource } from 'typeorm';
import type { Logger } from '../observability/logger';

/** Rows changed per statement: short statements keep row locks brief next to live traffic. */
const SWEEP_BATCH_ROWS = 1_000;
/** Batches per step and sweep, so one sweep cannot monopolise a connection after a long outage. */
const MAX_BATCHES_PER_STEP = 50;

export interface RetentionPolicy {
  /** A passcode failure record stops mattering a cool-down after its last failure. */
  readonly passcodeCooldownMs: number;
  /** How long a published event stays in the outbox (EVENTS_RETENTION_MS); null when events are off. */
  readonly sentEventRetentionMs: number | null;
}

/** What one sweep removed. */
export interface SweepResult {
  readonly idempotencyRecords: number;
  readonly cardSecrets: number;
  readonly passcodeFailures: number;
  readonly sentEvents: number;
}

/**
 * Removes what the service keeps only for a while: idempotency records past their retention
 * (never under 24 h, see config), new cards' numbers and passcodes in stored replies past their
 * replay window, passcode failure records a cool-down old, and events the broker confirmed
 * longer ago than their retention (never an unsent one). Without it those tables grow with
 * every call, and card secrets outlive any retry that could need them. A failed sweep is logged
 * and retried at the next interval.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: Logger,
    private readonly policy: RetentionPolicy,
  ) {}

  async sweep(now: Date = new Date()): Promise<SweepResult> {
    return {
      idempotencyRecords: await this.inBatches(
        'DELETE FROM idempotency_record WHERE expires_at < ? ORDER BY expires_at LIMIT ?',
        now,
      ),
      cardSecrets: await this.inBatches(
        `UPDATE idempotency_record SET sealed_secrets = NULL, secrets_expire_at = NULL
           WHERE secrets_expire_at < ? ORDER BY secrets_expire_at LIMIT ?`,
        now,
      ),
      passcodeFailures: await this.inBatches(
        'DELETE FROM passcode_failure WHERE last_failure_at < ? ORDER BY last_failure_at LIMIT ?',
        new Date(now.getTime() - this.policy.passcodeCooldownMs),
      ),
      sentEvents:
        this.policy.sentEventRetentionMs === null
          ? 0
          : await this.inBatches(
              'DELETE FROM event_outbox WHERE sent_at < ? ORDER BY sent_at LIMIT ?',
              new Date(now.getTime() - this.policy.sentEventRetentionMs),
            ),
    };
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.sweep().then(
        (swept) => {
          if (swept.idempotencyRecords + swept.cardSecrets + swept.passcodeFailures + swept.sentEvents > 0) {
            this.log.info('swept expired records', { ...swept });
          }
        },
        (error: unknown) => {
          this.log.warn('retention sweep failed; will retry', { error: String(error) });
        },
      );
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Runs a `... WHERE column < ? ... LIMIT ?` statement until it changes less than a batch. */
  private async inBatches(statement: string, before: Date): Promise<number> {
    let changed = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_STEP; batch++) {
      const result = await this.dataSource.query<{ affectedRows?: number }>(statement, [before, SWEEP_BATCH_ROWS]);
      const affected = result.affectedRows ?? 0;
      changed += affected;
      if (affected < SWEEP_BATCH_ROWS) break;
    }
    return changed;
  }
}
