import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { TransactionScope, UnitOfWork } from '../application/ports';
import { Attempt, runAttempts, type AttemptPolicy, type PooledConnection } from './attempts';
import { TypeOrmCardAccessRepository } from './card-access.repository';
import { TypeOrmCardLifecycleRepository } from './card-lifecycle.repository';
import { TypeOrmHoldRepository } from './card-hold.repository';
import { DISABLED_OUTBOX, TypeOrmOutboxRepository, type EventEncoder } from './event-outbox.repository';
import { TypeOrmHistoryRepository } from './history.repository';
import { TypeOrmGiftCardRepository } from './gift-card.repository';
import { TypeOrmIdempotencyRepository } from './idempotency.repository';
import { TypeOrmLedgerRepository } from './ledger.repository';
import { TypeOrmPasscodeFailureRepository } from './passcode-failure.repository';

export interface UnitOfWorkOptions extends AttemptPolicy {
  /** How long one statement waits for a row lock; InnoDB's 50 s default outlives any deadline. */
  readonly lockWaitTimeoutSeconds: number;
  /** Events on (EVENTS_AMQP_URL set): how they are encoded, and who hears that some committed. */
  readonly events?: {
    readonly encode: EventEncoder;
    readonly committed: () => void;
  };
}

/** The repositories of one transaction, with the outbox the unit of work writes before COMMIT. */
type WorkScope = TransactionScope & { readonly outbox: { flush(): Promise<number> } };

/**
 * The repositories on one manager; `attempt` is the transaction's, absent for plain reads, and
 * `encode` is how events are stored, absent when events are off.
 */
function scopeOf(manager: EntityManager, encode: EventEncoder | undefined, attempt?: Attempt): WorkScope {
  return {
    cards: new TypeOrmGiftCardRepository(manager),
    ledger: new TypeOrmLedgerRepository(manager),
    idempotency: new TypeOrmIdempotencyRepository(manager),
    access: new TypeOrmCardAccessRepository(manager),
    passcodeFailures: new TypeOrmPasscodeFailureRepository(manager),
    outbox: encode === undefined ? DISABLED_OUTBOX : new TypeOrmOutboxRepository(manager, encode),
    shieldFromDeadline: () => attempt?.shield(),
    holds: new TypeOrmHoldRepository(manager),
    history: new TypeOrmHistoryRepository(manager),
    lifecycle: new TypeOrmCardLifecycleRepository(manager),
  };
}

/** Events belong to the transaction of their change; outside one there is nothing to announce. */
const NO_OUTBOX_OUTSIDE_A_TRANSACTION = {
  add: (): never => {
    throw new Error('events are written only inside a unit of work');
  },
};

/** mysql2's pooled connection under TypeORM's query runner, once it has one. */
function connectionOf(runner: QueryRunner): PooledConnection | undefined {
  return (runner as QueryRunner & { databaseConnection?: PooledConnection }).databaseConnection;
}

export class TypeOrmUnitOfWork implements UnitOfWork {
  readonly reads: TransactionScope;
  /** Connections whose session settings are applied; the pool reuses them, so once each. */
  private readonly preparedConnections = new WeakSet();

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: UnitOfWorkOptions,
  ) {
    this.reads = { ...scopeOf(dataSource.manager, undefined), outbox: NO_OUTBOX_OUTSIDE_A_TRANSACTION };
  }

  run<T>(work: (tx: TransactionScope) => Promise<T>): Promise<T> {
    return runAttempts(this.options, (attempt) => this.runOnce(work, attempt));
  }

  private async runOnce<T>(work: (tx: TransactionScope) => Promise<T>, attempt: Attempt): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      attempt.connected(connectionOf(runner));
      await this.prepareSession(runner);
      await runner.startTransaction();
      const scope = scopeOf(runner.manager, this.options.events?.encode, attempt);
      const result = await work(scope);
      const events = await scope.outbox.flush();
      attempt.phase = 'committing';
      await runner.commitTransaction();
      if (events > 0) this.options.events?.committed();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      attempt.finished();
      await runner.release();
    }
  }

  /**
   * READ COMMITTED: every balance is read with FOR UPDATE anyway, and it avoids the gap locks
   * REPEATABLE READ takes on missing keys (a lookup by an unknown card number, say).
   */
  private async prepareSession(runner: QueryRunner): Promise<void> {
    const connection = connectionOf(runner);
    if (connection === undefined) throw new Error('query runner has no connection after connect()');
    if (this.preparedConnections.has(connection)) return;
    await runner.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await runner.query(`SET SESSION innodb_lock_wait_timeout = ${this.options.lockWaitTimeoutSeconds.toFixed(0)}`);
    this.preparedConnections.add(connection);
  }
}
