import type { ServerVariables } from './server-variables';

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
 * So on a Galera node the path's sessions run with autocommit off, and each transaction sets a
 * savepoint when it begins. Every COMMIT first releases that savepoint, which fails once the
 * transaction it belongs to has been rolled back: the round trip stops before its COMMIT, and
 * whatever ran after the abort is rolled back with the new transaction it opened. A single server
 * has no one to abort a transaction between two statements of a round trip, and is spared the two
 * extra statements.
 */
export interface TransactionFraming {
  readonly name: 'plain' | 'guarded';
  /** Sent with a connection's first round trip. */
  readonly session: string;
  readonly begin: string;
  readonly commit: string;
}

export const PLAIN_FRAMING: TransactionFraming = {
  name: 'plain',
  session: '',
  begin: 'START TRANSACTION',
  commit: 'COMMIT',
};

export const GUARDED_FRAMING: TransactionFraming = {
  name: 'guarded',
  session: 'SET SESSION autocommit = 0; ',
  begin: 'START TRANSACTION; SAVEPOINT locked_transaction',
  commit: 'RELEASE SAVEPOINT locked_transaction; COMMIT',
};

/** The variable framingOf judges, to be read from the server. */
export const GALERA_VARIABLE = 'wsrep_on';

/** `wsrep_on` as the server reports it; undefined on a server without Galera support (MySQL). */
export function framingFor(wsrepOn: string | undefined): TransactionFraming {
  return wsrepOn !== undefined && wsrepOn.toUpperCase() === 'ON' ? GUARDED_FRAMING : PLAIN_FRAMING;
}

/**
 * Whether the database, as read at start, is a Galera node. Every node of a cluster is one, so a
 * failover to another node keeps the answer. When the settings could not be read, the guard is on.
 */
export function framingOf(variables: ServerVariables): TransactionFraming {
  return variables instanceof Error ? GUARDED_FRAMING : framingFor(variables.get(GALERA_VARIABLE));
}
