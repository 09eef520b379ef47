import { randomInt } from 'node:crypto';
import { currentWorkDeadline } from '../call-deadline';
import { concurrencyConflict, databaseUnavailable, DomainError, overloaded } from '../domain/errors';
import {
  isDatabaseUnreachable,
  isPoolQueueFull,
  isRetryableConflict,
  retryReasonOf,
  type RetryReason,
} from './mysql-errors';

/**
 * How transactions are retried and cut off, shared by the unit of work (TypeORM) and the
 * single-card path (its own mysql2 pool): both answer a call by its deadline the same way.
 */
export interface AttemptPolicy {
  /** Runs of one unit before a deadlock or lock timeout becomes ABORTED. */
  readonly maxAttempts: number;
  /**
   * Whether the database answers its health probe. When a call's time runs out, it tells a row
   * held by someone else (ABORTED) from a database that stopped answering (UNAVAILABLE).
   */
  readonly databaseReachable?: () => boolean;
  /** Told of every rerun and its cause (for the retry metric). */
  readonly onRetry?: (reason: RetryReason) => void;
}

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
export type AttemptPhase = 'connecting' | 'working' | 'committing';

/** mysql2's pooled connection, and its socket. */
export interface PooledConnection {
  destroy(): void;
  readonly stream?: { destroy(): void };
}

/**
 * One run of the work on one pooled connection, which the call's deadline can cut off. Cutting
 * destroys the connection, so no statement of the attempt, and in particular no COMMIT, can reach
 * the database afterwards; whatever the attempt had not committed is rolled back by the server.
 * A shielded attempt (one recording a judged wrong passcode) is the exception: the caller is
 * answered at its deadline all the same, and the attempt runs on to its commit behind the answer.
 */
export class Attempt {
  phase: AttemptPhase = 'connecting';
  private cut = false;
  private shielded = false;
  private shieldLimit: NodeJS.Timeout | undefined;
  private connection: PooledConnection | undefined;

  /** From now on a cut-off answers the caller but lets the attempt run on to its commit. */
  shield(): void {
    this.shielded = true;
  }

  /** Called once the pooled connection is ours: an attempt already cut gives it straight back, destroyed. */
  connected(connection: PooledConnection | undefined): void {
    if (connection === undefined) throw new Error('no database connection after connecting');
    this.connection = connection;
    if (this.cut) {
      connection.destroy();
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
    this.connection?.stream?.destroy();
  }

  /** The attempt committed or rolled back: its connection goes back to the pool, never to be cut. */
  finished(): void {
    clearTimeout(this.shieldLimit);
  }
}

/**
 * Runs `once` in a fresh attempt until it succeeds, answering by the call's deadline whatever it
 * waits for: deadlocks and lock-wait timeouts rerun the whole work a bounded number of times.
 */
export async function runAttempts<T>(policy: AttemptPolicy, once: (attempt: Attempt) => Promise<T>): Promise<T> {
  const giveUpAtMs = currentWorkDeadline();
  for (let attempt = 1; ; attempt++) {
    try {
      return await (giveUpAtMs === null ? once(new Attempt()) : runWithin(policy, once, giveUpAtMs));
    } catch (error) {
      if (!isRetryableConflict(error) || attempt >= policy.maxAttempts) throw translateDatabaseError(error);
      // Jittered backoff so the transactions that collided do not collide again in step.
      const backoffMs = randomInt(5, 20 * attempt);
      // A retry that cannot finish before the caller stops listening only holds a connection.
      if (giveUpAtMs !== null && Date.now() + backoffMs >= giveUpAtMs) throw translateDatabaseError(error);
      policy.onRetry?.(retryReasonOf(error));
      await sleep(backoffMs);
    }
  }
}

/**
 * One attempt that answers by `giveUpAtMs` whatever it waits for: a row lock held by another
 * call, a pool with no free connection, a database that stopped answering. The caller is told
 * before its deadline instead of timing out blind, and an attempt cut off cannot commit later.
 */
async function runWithin<T>(
  policy: AttemptPolicy,
  once: (attempt: Attempt) => Promise<T>,
  giveUpAtMs: number,
): Promise<T> {
  if (Date.now() >= giveUpAtMs) throw outOfTime(policy, 'connecting');
  const attempt = new Attempt();
  const running = once(attempt);
  // Once cut off, the attempt's own failure has nobody left to hear it.
  running.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(outOfTime(policy, attempt.cutOff()));
    }, giveUpAtMs - Date.now());
  });
  try {
    return await Promise.race([running, timeUp]);
  } finally {
    clearTimeout(timer);
  }
}

function outOfTime(policy: AttemptPolicy, phase: AttemptPhase): DomainError {
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
  if (policy.databaseReachable?.() === false) return databaseUnavailable();
  return concurrencyConflict('the card stayed busy until the call’s deadline; retry with the same idempotency key');
}
