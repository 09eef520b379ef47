import { isRetryableConflict, MySqlErrno, retryReasonOf } from '../../src/persistence/mysql-errors';

/** What mysql2 rejects a query with: the server's error number on the error itself. */
const serverError = (errno: number): Error => Object.assign(new Error(`server error ${errno}`), { errno });

describe('which database errors run the whole transaction again', () => {
  it.each([
    [MySqlErrno.DEADLOCK, 'deadlock'],
    [MySqlErrno.LOCK_WAIT_TIMEOUT, 'lock_wait_timeout'],
    [MySqlErrno.SNAPSHOT_CONFLICT, 'snapshot_conflict'],
    [MySqlErrno.SAVEPOINT_GONE, 'transaction_lost'],
  ])('error %i reruns the transaction, counted as %s', (errno, reason) => {
    expect(isRetryableConflict(serverError(errno))).toBe(true);
    expect(retryReasonOf(serverError(errno))).toBe(reason);
  });

  it('a refused key or a server that went away is not rerun as a conflict', () => {
    expect(isRetryableConflict(serverError(MySqlErrno.DUPLICATE_KEY))).toBe(false);
    expect(isRetryableConflict(serverError(MySqlErrno.SERVER_SHUTDOWN))).toBe(false);
  });
});
