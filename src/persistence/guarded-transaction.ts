/*
 * How the single-card path keeps a transaction whole on a Galera cluster.
 *
 * A writeset replicated from another node that conflicts with this node's row locks rolls the
 * local transaction back ("brute-force abort"), and can do so while the path's multi-statement
 * write round trip is in flight. MariaDB 10.11 then runs the round trip's remaining statements
 * anyway. With autocommit on, each of them commits by itself and the COMMIT finds nothing to do:
 * the caller is told everything succeeded while only the tail of the write was stored (the
 * cluster run lost an acknowledged refund that way). With autocommit off, they open a new
 * transaction that the round trip's COMMIT commits, and only then is the abort reported.
 * test/cluster/brute-force-abort.cluster.ts shows both.
 *
 * So the path's sessions run with autocommit off, and each transaction sets a savepoint when it
 * begins. Every COMMIT first releases that savepoint, which fails once the transaction it belongs
 * to has been rolled back: the round trip stops before its COMMIT, and whatever ran after the
 * abort is rolled back with the new transaction it opened. On a single server nothing can roll a
 * transaction back between two statements of a round trip, and the guard costs two statements
 * that touch no row.
 */

export const SESSION_AUTOCOMMIT_OFF = 'SET SESSION autocommit = 0';
export const BEGIN_GUARDED = 'START TRANSACTION; SAVEPOINT locked_transaction';
export const COMMIT_GUARDED = 'RELEASE SAVEPOINT locked_transaction; COMMIT';
