/** MySQL/MariaDB error numbers the service reacts to, by name. */
export const MySqlErrno = {
  DUPLICATE_KEY: 1062,
  LOCK_WAIT_TIMEOUT: 1205,
  DEADLOCK: 1213,
  SNAPSHOT_CONFLICT: 1020,
  CONNECTION_KILLED: 1927,
  SERVER_SHUTDOWN: 1053,
  QUERY_INTERRUPTED: 1317,
  TOO_MANY_CONNECTIONS: 1040,
  /**
   * "SAVEPOINT ... does not exist": on the single-card path, the transaction its first round trip
   * began is gone (guarded-transaction.ts), and the whole work may run again.
   */
  SAVEPOINT_GONE: 1305,
  /** A Galera node outside the primary component, or still joining: "WSREP has not yet prepared node". */
  WSREP_NOT_READY: 1047,
} as const;

/** Client-side codes mysql2 uses when the server cannot be reached or the connection dies. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_CLOSED',
  'ER_CON_COUNT_ERROR',
]);

interface DriverErrorShape {
  errno?: unknown;
  code?: unknown;
  driverError?: unknown;
  sqlMessage?: unknown;
}

/** TypeORM wraps mysql2's error in QueryFailedError.driverError; look through the wrapper. */
function driverError(error: unknown): DriverErrorShape | null {
  if (error === null || typeof error !== 'object') return null;
  const shape = error as DriverErrorShape;
  if (shape.driverError !== undefined && shape.driverError !== null && typeof shape.driverError === 'object') {
    return shape.driverError;
  }
  return shape;
}

export function mysqlErrno(error: unknown): number | null {
  const errno = driverError(error)?.errno;
  return typeof errno === 'number' ? errno : null;
}

export function isDuplicateKey(error: unknown, keyName: string): boolean {
  const shape = driverError(error);
  return (
    mysqlErrno(error) === MySqlErrno.DUPLICATE_KEY &&
    typeof shape?.sqlMessage === 'string' &&
    shape.sqlMessage.includes(keyName)
  );
}

/** The whole unit of work may simply be run again. */
export function isRetryableConflict(error: unknown): boolean {
  const errno = mysqlErrno(error);
  return (
    errno === MySqlErrno.DEADLOCK ||
    errno === MySqlErrno.LOCK_WAIT_TIMEOUT ||
    errno === MySqlErrno.SNAPSHOT_CONFLICT ||
    errno === MySqlErrno.SAVEPOINT_GONE
  );
}

export type RetryReason = 'deadlock' | 'lock_wait_timeout' | 'snapshot_conflict' | 'transaction_lost';

/** Why a retryable conflict happened, in words a metric label can carry. */
export function retryReasonOf(error: unknown): RetryReason {
  const errno = mysqlErrno(error);
  if (errno === MySqlErrno.DEADLOCK) return 'deadlock';
  if (errno === MySqlErrno.SAVEPOINT_GONE) return 'transaction_lost';
  return errno === MySqlErrno.LOCK_WAIT_TIMEOUT ? 'lock_wait_timeout' : 'snapshot_conflict';
}

export function isDatabaseUnreachable(error: unknown): boolean {
  const shape = driverError(error);
  const errno = mysqlErrno(error);
  if (
    errno === MySqlErrno.CONNECTION_KILLED ||
    errno === MySqlErrno.SERVER_SHUTDOWN ||
    errno === MySqlErrno.QUERY_INTERRUPTED ||
    errno === MySqlErrno.TOO_MANY_CONNECTIONS ||
    errno === MySqlErrno.WSREP_NOT_READY
  ) {
    return true;
  }
  if (typeof shape?.code === 'string' && UNREACHABLE_CODES.has(shape.code)) return true;
  // mysql2 reports a dead pool connection with a fatal flag and no errno.
  return (shape as { fatal?: unknown } | null)?.fatal === true;
}

/**
 * mysql2's pool refuses a connection request once its wait queue is full, with a bare Error and
 * no code. Admission control keeps calls from reaching that queue; this is the backstop.
 */
const POOL_QUEUE_FULL_MESSAGE = 'Queue limit reached.';

export function isPoolQueueFull(error: unknown): boolean {
  return error instanceof Error && error.message === POOL_QUEUE_FULL_MESSAGE;
}
