import { randomInt } from 'node:crypto';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { DomainError, ErrorReason } from '../domain/errors';
import type { TransactionScope, UnitOfWork } from '../application/ports';
import { TypeOrmCardAccessRepository } from './card-access.repository';
import { TypeOrmGiftCardRepository } from './gift-card.repository';
import { TypeOrmIdempotencyRepository } from './idempotency.repository';
import { TypeOrmLedgerRepository } from './ledger.repository';
import { isDatabaseUnreachable, isRetryableConflict } from './mysql-errors';

export interface UnitOfWorkOptions {
  /** Runs of one unit before a deadlock or lock timeout becomes ABORTED. */
  readonly maxAttempts: number;
  /** How long one statement waits for a row lock; InnoDB's 50 s default outlives any deadline. */
  readonly lockWaitTimeoutSeconds: number;
}

function scopeOf(manager: EntityManager): TransactionScope {
  return {
    cards: new TypeOrmGiftCardRepository(manager),
    ledger: new TypeOrmLedgerRepository(manager),
    idempotency: new TypeOrmIdempotencyRepository(manager),
    access: new TypeOrmCardAccessRepository(manager),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Maps what the database threw to the domain's words; leaves everything else alone. */
export function translateDatabaseError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  if (isRetryableConflict(error)) {
    return new DomainError(ErrorReason.CONCURRENCY_CONFLICT, 'the card is busy; retry with the same idempotency key');
  }
  if (isDatabaseUnreachable(error)) {
    return new DomainError(ErrorReason.DATABASE_UNAVAILABLE, 'the database is unavailable; retry later');
  }
  return error;
}

export class TypeOrmUnitOfWork implements UnitOfWork {
  readonly reads: TransactionScope;
  /** Connections whose session settings are applied; the pool reuses them, so once each. */
  private readonly preparedConnections = new WeakSet();

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: UnitOfWorkOptions,
  ) {
    this.reads = scopeOf(dataSource.manager);
  }

  async run<T>(work: (tx: TransactionScope) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(work);
      } catch (error) {
        if (!isRetryableConflict(error) || attempt >= this.options.maxAttempts) throw translateDatabaseError(error);
        // Jittered backoff so the transactions that collided do not collide again in step.
        await sleep(randomInt(5, 20 * attempt));
      }
    }
  }

  private async runOnce<T>(work: (tx: TransactionScope) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await this.prepareSession(runner);
      await runner.startTransaction();
      const result = await work(scopeOf(runner.manager));
      await runner.commitTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /**
   * READ COMMITTED: every balance is read with FOR UPDATE anyway, and it avoids the gap locks
   * REPEATABLE READ takes on missing keys (a lookup by an unknown card number, say).
   */
  private async prepareSession(runner: QueryRunner): Promise<void> {
    const connection = (runner as QueryRunner & { databaseConnection: object }).databaseConnection;
    if (this.preparedConnections.has(connection)) return;
    await runner.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await runner.query(`SET SESSION innodb_lock_wait_timeout = ${this.options.lockWaitTimeoutSeconds.toFixed(0)}`);
    this.preparedConnections.add(connection);
  }
}
