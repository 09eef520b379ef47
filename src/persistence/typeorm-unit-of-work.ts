import { randomInt } from 'node:crypto';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { currentWorkDeadline } from '../call-deadline';
import { concurrencyConflict, databaseUnavailable, DomainError, overloaded } from '../domain/errors';
import type { TransactionScope, UnitOfWork } from '../application/ports';
import { TypeOrmCardAccessRepository } from './card-access.repository';
import { TypeOrmHoldRepository } from './card-hold.repository';
import { DISABLED_OUTBOX, TypeOrmOutboxRepository, type EventEncoder } from './event-outbox.repository';
import { TypeOrmHistoryRepository } from './history.repository';
import { TypeOrmGiftCardRepository } from './gift-card.repository';
import { TypeOrmIdempotencyRepository } from './idempotency.repository';
import { TypeOrmLedgerRepository } from './ledger.repository';
import {
  isDatabaseUnreachable,
  isPoolQueueFull,
  isRetryableConflict,
  retryReasonOf,
  type RetryReason,
} from './mysql-errors';
import { TypeOrmPasscodeFailureRepository } from './passcode-failure.repository';

export interface UnitOfWorkOptions {
  /** Runs of one unit before a deadlock or lock timeout becomes ABORTED. */
  readonly maxAttempts: number;
  /** How long one statement waits for a row lock; InnoDB's 50 s default outlives any deadline. */
  readonly lockWaitTimeoutSeconds: number;
  /**
   * Whether the database answers its health probe. When a call's time runs out, it tells a row
   * held by someone else (ABORTED) from a database that stopped answering (UNAVAILABLE).
   */
  readonly databaseReachable?: () => boolean;
  /** Events on (EVENTS_AMQP_URL set): how they are encoded, and who hears that some committed. */
  readonly events?: {
    readonly encode: EventEncoder;
    readonly committed: () => void;
  };
  /** Told of every rerun and its cause (for the retry metric). */
  readonly onRetry?: (reason: RetryReason) => void;
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
  };
}

/** Events belong to the transaction of their change; outside one there is nothing to announce. */
const NO_OUTBOX_OUTSIDE_A_TRANSACTION = {
  add: (): never => {
    throw new Error('events are written only inside a unit of work');
  },
};

/**
 * How long a shielded attempt may go on after its call's deadline: ample for the few statements
 * and the commit that record a wrong passcode, even behind another guess's lock. A database that
 * answers nothing for this long gets the connection destroyed after all.
 */
const SHIELDED_ATTEMPT_LIMIT_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Maps what the database threw to the domain's words; leaves everything else alone. */
export function translateDatabaseError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  if (isRetryableConflict(error)) return concurrencyConflict();
  if (isDatabaseUnreachable(error)) return databaseUnavailable();
  if (isPoolQueueFull(error)) return overloaded();
  return error;
}

/** Where an attempt is, so that cutting it off can say whether a COMMIT may have reached the database. */
type AttemptPhase = 'connecting' | 'working' | 'committing';

/**
 * One run of the work on one pooled connection, which the call's deadline can cut off. Cutting
 * destroys the connection, so no statement of the attempt, and in particular no COMMIT, can reach
 * the database afterwards; whatever the attempt had not committed is rolled back by the server.
 * A shielded attempt (one recording a judged wrong passcode) is the exception: the caller is
 * answered at its deadline all the same, and the attempt runs on to its commit behind the answer.
 */
class Attempt {
  phase: AttemptPhase = 'connecting';
  private cut = false;
  private shielded = false;
  private shieldLimit: NodeJS.Timeout | undefined;

  constructor(readonly runner: QueryRunner) {}

  /** From now on a cut-off answers the caller but lets the attempt run on to its commit. */
  shield(): void {
    this.shielded = true;
  }

  /** Called once the pooled connection is ours: an attempt already cut gives it straight back, destroyed. */
  connected(): void {
    if (this.cut) {
      connectionOf(this.runner)?.destroy();
      throw databaseUnavailable('the database connection came too late for the call’s deadline');
    }
    this.phase = 'working';
  }

  cutOff(): AttemptPhase {
    this.cut = true;
    if (this.shielded) {
      this.shieldLimit = setTimeout(() => {
        this.kill();
      }, SHIELDED_ATTEMPT_LIMIT_MS);
      this.shieldLimit.unref();
    } else {
      this.kill();
    }
    return this.phase;
  }

  /**
   * Closes the socket outright. mysql2's destroy() only half-closes it, and the answer to a
   * statement already sent would still arrive and let the work go on, judging a passcode, say,
   * for a caller already told the call was cut off. With the socket gone, the statement in flight
   * fails instead, and nothing after the cut is decided.
   */
  private kill(): void {
    connectionOf(this.runner)?.stream?.destroy();
  }

  /** The attempt committed or rolled back: its connection goes back to the pool, never to be cut. */
  finished(): void {
    clearTimeout(this.shieldLimit);
  }
}

/** mysql2's pooled connection under TypeORM's query runner, once it has one, and its socket. */
interface PooledConnection {
  destroy(): void;
  readonly stream?: { destroy(): void };
}

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

  async run<T>(work: (tx: TransactionScope) => Promise<T>): Promise<T> {
    const giveUpAtMs = currentWorkDeadline();
    for (let attempt = 1; ; attempt++) {
      try {
        return await (giveUpAtMs === null ? this.runOnce(work) : this.runWithin(work, giveUpAtMs));
      } catch (error) {
        if (!isRetryableConflict(error) || attempt >= this.options.maxAttempts) throw translateDatabaseError(error);
        // Jittered backoff so the transactions that collided do not collide again in step.
        const backoffMs = randomInt(5, 20 * attempt);
        // A retry that cannot finish before the caller stops listening only holds a connection.
        if (giveUpAtMs !== null && Date.now() + backoffMs >= giveUpAtMs) throw translateDatabaseError(error);
        this.options.onRetry?.(retryReasonOf(error));
        await sleep(backoffMs);
      }
    }
  }

  /**
   * One attempt that answers by `giveUpAtMs` whatever it waits for: a row lock held by another
   * call, a pool with no free connection, a database that stopped answering. The caller is told
   * before its deadline instead of timing out blind, and an attempt cut off cannot commit later.
   */
  private async runWithin<T>(work: (tx: TransactionScope) => Promise<T>, giveUpAtMs: number): Promise<T> {
    if (Date.now() >= giveUpAtMs) throw this.outOfTime('connecting');
    const attempt = new Attempt(this.dataSource.createQueryRunner());
    const running = this.runOnce(work, attempt);
    // Once cut off, the attempt's own failure has nobody left to hear it.
    running.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(this.outOfTime(attempt.cutOff()));
      }, giveUpAtMs - Date.now());
    });
    try {
      return await Promise.race([running, timeUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  private outOfTime(phase: AttemptPhase): DomainError {
    if (phase === 'connecting') {
      return databaseUnavailable(
        'no database connection came free before the call’s deadline; retry with the same idempotency key',
      );
    }
    if (phase === 'committing') {
      return databaseUnavailable(
        'the database did not confirm the commit before the call’s deadline; retry with the same idempotency key',
      );
    }
    if (this.options.databaseReachable?.() === false) return databaseUnavailable();
    return concurrencyConflict('the card stayed busy until the call’s deadline; retry with the same idempotency key');
  }

  private async runOnce<T>(
    work: (tx: TransactionScope) => Promise<T>,
    attempt = new Attempt(this.dataSource.createQueryRunner()),
  ): Promise<T> {
    const { runner } = attempt;
    try {
      await runner.connect();
      attempt.connected();
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
