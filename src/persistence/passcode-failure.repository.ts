import type { EntityManager } from 'typeorm';
import type { PasscodeFailureRepository } from '../application/ports';
import { NO_PASSCODE_FAILURES, type PasscodeFailures } from '../domain/passcode-lockout';

export interface PasscodeFailureRow {
  readonly failed_attempts: number;
  readonly locked_until: Date | null;
  readonly last_failure_at: Date | null;
}

export const FAILURES_FIND =
  'SELECT failed_attempts, locked_until, last_failure_at FROM passcode_failure WHERE number_hash = ?';
export const FAILURES_CLEAR = 'DELETE FROM passcode_failure WHERE number_hash = ?';
const COLUMNS = 'failed_attempts, locked_until, last_failure_at';
export const FAILURES_UPSERT = `INSERT INTO passcode_failure (number_hash, failed_attempts) VALUES (?, 0)
         ON DUPLICATE KEY UPDATE failed_attempts = failed_attempts`;
export const FAILURES_LOCK = `SELECT ${COLUMNS} FROM passcode_failure WHERE number_hash = ? FOR UPDATE`;
export const FAILURES_SAVE =
  'UPDATE passcode_failure SET failed_attempts = ?, locked_until = ?, last_failure_at = ? WHERE number_hash = ?';

export function failuresFromRow(row: PasscodeFailureRow | undefined): PasscodeFailures {
  if (row === undefined) return NO_PASSCODE_FAILURES;
  return { failedAttempts: row.failed_attempts, lockedUntil: row.locked_until, lastFailureAt: row.last_failure_at };
}

/** Written out, not built by TypeORM: every check of a passcode reads it (see gift-card.repository.ts). */
export class TypeOrmPasscodeFailureRepository implements PasscodeFailureRepository {
  constructor(private readonly manager: EntityManager) {}

  async find(numberHash: Uint8Array): Promise<PasscodeFailures> {
    const rows: PasscodeFailureRow[] = await this.manager.query(FAILURES_FIND, [Buffer.from(numberHash)]);
    return failuresFromRow(rows[0]);
  }

  /**
   * The upsert takes the row's exclusive lock whether it inserts or finds the row (an
   * INSERT ... ON DUPLICATE KEY UPDATE never takes the shared lock a plain duplicate INSERT does,
   * so two first guesses at one number queue instead of deadlocking).
   */
  async lock(numberHash: Uint8Array): Promise<PasscodeFailures> {
    const hash = Buffer.from(numberHash);
    await this.manager.query(FAILURES_UPSERT, [hash]);
    const rows: PasscodeFailureRow[] = await this.manager.query(FAILURES_LOCK, [hash]);
    return failuresFromRow(rows[0]);
  }

  async save(numberHash: Uint8Array, failures: PasscodeFailures): Promise<void> {
    await this.manager.query(FAILURES_SAVE, [
      failures.failedAttempts,
      failures.lockedUntil,
      failures.lastFailureAt,
      Buffer.from(numberHash),
    ]);
  }

  async clear(numberHash: Uint8Array): Promise<void> {
    await this.manager.query(FAILURES_CLEAR, [Buffer.from(numberHash)]);
  }
}
