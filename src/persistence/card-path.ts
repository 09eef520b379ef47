import type { Pool, PoolConnection } from 'mysql2';
import {
  FundingReferenceUsed,
  NO_BATCH_READ,
  RecordFormat,
  type BatchReads,
  type CardLookup,
  type CardPath,
  type CardTransaction,
  type CardWrite,
  type IdempotencyRecord,
  type KeyTaken,
  type LockedCardRead,
  type ReferenceLookup,
  type ScopedKey,
} from '../application/ports';
import { NO_PASSCODE_FAILURES, type PasscodeFailures } from '../domain/passcode-lockout';
import { runAttempts, type Attempt, type AttemptPolicy } from './attempts';
import { lockStatements, NO_BATCH_READS, readLocked } from './card-lock-read';
import { GUARDED_FRAMING, type TransactionFraming } from './guarded-transaction';
import type { EventEncoder } from './event-outbox.repository';
import { CARD_COLUMNS, CARD_SAVE, cardSaveValues, fromRow, type GiftCardRow } from './gift-card.repository';
import { RECORD_COLUMNS, toRecord, type IdempotencyRow } from './idempotency.repository';
import {
  ENTRY_COLUMNS,
  entryFromRow,
  FUNDING_REFERENCE_KEY,
  LEDGER_INSERT_INTO,
  LEDGER_ROW,
  ledgerAppendValues,
  type LedgerEntryRow,
} from './ledger.repository';
import { isDuplicateKey, MySqlErrno, mysqlErrno } from './mysql-errors';
import {
  FAILURES_CLEAR,
  FAILURES_LOCK,
  FAILURES_SAVE,
  FAILURES_UPSERT,
  failuresFromRow,
  type PasscodeFailureRow,
} from './passcode-failure.repository';

/*
 * The single-card path's statements, written out and sent a round trip at a time as one
 * multi-statement text query. Every value goes through mysql2's escaping (`?`), never spliced.
 * bench/sql-workload.ts sends the same, and bench/sql-drift-check.ts checks that it does.
 */
const SESSION_SETUP = 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; SET SESSION innodb_lock_wait_timeout = ';
/*
 * Refunds serialize on the redemption's entry, then lock the card it was taken from, as the unit
 * of work's path does; a card that passed its money on is followed there, on that path.
 */
const LOCK_REDEMPTION_READS =
  `SELECT ${ENTRY_COLUMNS} FROM ledger_entry WHERE public_id = ? FOR UPDATE; ` +
  'SELECT COALESCE(SUM(amount_minor), 0) AS total FROM ledger_entry ' +
  "WHERE (refund_of_entry_id = (SELECT id FROM ledger_entry WHERE public_id = ?) AND entry_type = 'REFUND') " +
  'OR reverses_entry_id = (SELECT id FROM ledger_entry WHERE public_id = ?); ' +
  `SELECT ${CARD_COLUMNS} FROM gift_card WHERE id = (SELECT card_id FROM ledger_entry WHERE public_id = ?) FOR UPDATE`;
/** The key's record is written whole, reply included: its primary key is what refuses a replay. */
const RECORD_INSERT =
  'INSERT INTO idempotency_record (caller, idempotency_key, record_format, rpc, fingerprint, operation_id, ' +
  'sealed_response, sealed_secrets, secrets_expire_at, created_at, expires_at) VALUES ';
const OUTBOX_ROW = '(?, ?, ?, ?, ?)';
const OUTBOX_INSERT = 'INSERT INTO event_outbox (event_id, card_id, event_type, payload, created_at) VALUES ';
const RECORD_FIND = `SELECT ${RECORD_COLUMNS} FROM idempotency_record WHERE caller = ? AND idempotency_key = ?`;
/** With autocommit off, a read after the ROLLBACK opens a transaction of its own: ended at once, never left on an idle connection. */
const ROLLBACK_AND_FIND_RECORD = `ROLLBACK; ${RECORD_FIND}; ROLLBACK`;
const RECORD_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

export interface CardPathOptions extends AttemptPolicy {
  readonly lockWaitTimeoutSeconds: number;
  /** Events on: how they are encoded, and who hears that some committed. */
  readonly events?: { readonly encode: EventEncoder; readonly committed: () => void };
  /** Wraps each round trip (a span per statement batch when tracing is on). */
  readonly traceRoundTrip?: <T>(sql: string, send: () => Promise<T>) => Promise<T>;
  /** How transactions begin and commit (guarded-transaction.ts); guarded unless the database is known to be a single server. */
  readonly framing?: TransactionFraming;
}

type Results = unknown[];

function send(connection: PoolConnection, sql: string, values: unknown[]): Promise<Results> {
  return new Promise((resolve, reject) => {
    connection.query(sql, values, (error, results) => {
      if (error) reject(error);
      else resolve(results as Results);
    });
  });
}

function acquire(pool: Pool): Promise<PoolConnection> {
  return new Promise((resolve, reject) => {
    pool.getConnection((error, connection) => {
      if (error) reject(error);
      else resolve(connection);
    });
  });
}

/** The last `n` result sets of a multi-statement reply, which ends with the ones that were asked for. */
function lastResults(results: Results, n: number): Results {
  return results.slice(results.length - n);
}

export class MysqlCardPath implements CardPath {
  /** Connections whose session settings are applied; sent along with their first round trip. */
  private readonly prepared = new WeakSet();
  private readonly sessionSetup: string;
  readonly framing: TransactionFraming;
  private readonly lockRedemptionSql: string;

  constructor(
    private readonly pool: Pool,
    private readonly options: CardPathOptions,
  ) {
    this.framing = options.framing ?? GUARDED_FRAMING;
    this.sessionSetup = `${SESSION_SETUP}${options.lockWaitTimeoutSeconds.toFixed(0)}; ${this.framing.session}`;
    this.lockRedemptionSql = `${this.framing.begin}; ${LOCK_REDEMPTION_READS}`;
  }

  run<T>(lookup: CardLookup, work: (tx: CardTransaction) => Promise<T>, batch?: BatchReads): Promise<T> {
    return runAttempts(this.options, (attempt) => this.runOnce(lookup, work, attempt, batch));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pool.end((error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  private async runOnce<T>(
    lookup: CardLookup,
    work: (tx: CardTransaction) => Promise<T>,
    attempt: Attempt,
    batch: BatchReads | undefined,
  ): Promise<T> {
    const connection = await acquire(this.pool);
    let open = false;
    try {
      attempt.connected(connection);
      open = true;
      const read =
        lookup.kind === 'redemption'
          ? await this.lockRedemption(connection, lookup.entryPublicId, batch)
          : await this.lock(connection, lookup, batch ?? NO_BATCH_READS);
      const tx = new OpenCardTransaction(this, connection, attempt, read, () => {
        open = false;
      });
      return await work(tx);
    } finally {
      attempt.finished();
      // A session whose ROLLBACK failed may hold statements an aborted transaction left behind
      // (guarded-transaction.ts); the next START TRANSACTION would commit them. Closing it rolls them back.
      const reusable =
        !open ||
        (await this.roundTrip(connection, 'ROLLBACK', []).then(
          () => true,
          () => false,
        ));
      if (reusable) connection.release();
      else connection.destroy();
    }
  }

  /** Sends one round trip, traced when tracing is on. */
  roundTrip(connection: PoolConnection, sql: string, values: unknown[]): Promise<Results> {
    const trace = this.options.traceRoundTrip;
    return trace === undefined ? send(connection, sql, values) : trace(sql, () => send(connection, sql, values));
  }

  get events(): CardPathOptions['events'] {
    return this.options.events;
  }

  /** Session settings, sent along with a connection's first round trip. */
  private firstRoundTrip(connection: PoolConnection, sql: string, values: unknown[]): Promise<Results> {
    const setup = this.prepared.has(connection) ? '' : this.sessionSetup;
    return this.roundTrip(connection, setup + sql, values).then((results) => {
      this.prepared.add(connection);
      return results;
    });
  }

  /** The first round trip by the caller's reference (card-lock-read.ts): BEGIN, the locking read and what goes with it. */
  private async lock(connection: PoolConnection, lookup: ReferenceLookup, batch: BatchReads): Promise<LockedCardRead> {
    const { sql, values, results } = lockStatements(lookup, batch, this.framing);
    const replies = await this.firstRoundTrip(connection, sql, values);
    return readLocked(lastResults(replies, results), lookup, batch);
  }

  /** A refund's first round trip: the redemption's entry, what was given back of it, its card. */
  private async lockRedemption(
    connection: PoolConnection,
    entryPublicId: string,
    batch: BatchReads | undefined,
  ): Promise<LockedCardRead> {
    if (batch !== undefined) throw new Error('a batch names its card by number or as a saved card');
    const id = entryPublicId;
    const results = await this.firstRoundTrip(connection, this.lockRedemptionSql, [id, id, id, id]);
    const [entries, sums, cards] = lastResults(results, 3) as [
      LedgerEntryRow[],
      { total: string | number }[],
      GiftCardRow[],
    ];
    const entry = entries[0];
    const card = cards[0];
    return {
      card: card === undefined ? null : fromRow(card),
      failures: NO_PASSCODE_FAILURES,
      hasAccess: true,
      redemption:
        entry === undefined ? null : { entry: entryFromRow(entry), givenBackMinor: BigInt(sums[0]?.total ?? 0) },
      batch: NO_BATCH_READ,
    };
  }
}

class OpenCardTransaction implements CardTransaction {
  constructor(
    private readonly path: MysqlCardPath,
    private readonly connection: PoolConnection,
    private readonly attempt: Attempt,
    readonly read: LockedCardRead,
    private readonly ended: () => void,
  ) {}

  async commit(write: CardWrite): Promise<'committed' | KeyTaken> {
    const { sql, values } = writeStatements(write, this.path.events?.encode, this.path.framing);
    this.attempt.phase = 'committing';
    try {
      await this.path.roundTrip(this.connection, sql, values);
    } catch (error) {
      // The server stopped at the failed statement; the transaction is still open.
      const [record] = write.records;
      if (mysqlErrno(error) !== MySqlErrno.DUPLICATE_KEY || record === undefined) throw error;
      if (isDuplicateKey(error, FUNDING_REFERENCE_KEY)) throw new FundingReferenceUsed();
      return { taken: await this.rollback(record.key) };
    }
    this.ended();
    if (write.events.length > 0 && this.path.events !== undefined) this.path.events.committed();
    return 'committed';
  }

  async commitBatch(write: CardWrite): Promise<void> {
    const { sql, values } = writeStatements(write, this.path.events?.encode, this.path.framing);
    this.attempt.phase = 'committing';
    await this.path.roundTrip(this.connection, sql, values);
    this.ended();
    if (write.events.length > 0 && this.path.events !== undefined) this.path.events.committed();
  }

  async commitRead(clearFailuresOf: Uint8Array | null): Promise<void> {
    this.attempt.phase = 'committing';
    const { commit } = this.path.framing;
    if (clearFailuresOf === null) await this.path.roundTrip(this.connection, commit, []);
    else await this.path.roundTrip(this.connection, `${FAILURES_CLEAR}; ${commit}`, [Buffer.from(clearFailuresOf)]);
    this.ended();
  }

  shieldFromDeadline(): void {
    this.attempt.shield();
  }

  async lockFailures(numberHash: Uint8Array): Promise<PasscodeFailures> {
    const hash = Buffer.from(numberHash);
    const results = await this.path.roundTrip(this.connection, `${FAILURES_UPSERT}; ${FAILURES_LOCK}`, [hash, hash]);
    const [rows] = lastResults(results, 1) as [PasscodeFailureRow[]];
    return failuresFromRow(rows[0]);
  }

  async commitFailures(numberHash: Uint8Array, failures: PasscodeFailures | null): Promise<void> {
    this.attempt.phase = 'committing';
    const { commit } = this.path.framing;
    if (failures === null) {
      await this.path.roundTrip(this.connection, commit, []);
    } else {
      await this.path.roundTrip(this.connection, `${FAILURES_SAVE}; ${commit}`, [
        failures.failedAttempts,
        failures.lockedUntil,
        failures.lastFailureAt,
        Buffer.from(numberHash),
      ]);
    }
    this.ended();
  }

  async rollback(key: ScopedKey | null): Promise<IdempotencyRecord | null> {
    if (key === null) {
      await this.path.roundTrip(this.connection, 'ROLLBACK', []);
      this.ended();
      return null;
    }
    const results = await this.path.roundTrip(this.connection, ROLLBACK_AND_FIND_RECORD, [key.scope, key.key]);
    this.ended();
    const [rows] = lastResults(results, 2) as [IdempotencyRow[]];
    return toRecord(rows[0]);
  }
}

/** The second round trip: the keys' records first, so a replay changes nothing, then the change and the framing's COMMIT. */
function writeStatements(
  write: CardWrite,
  encode: EventEncoder | undefined,
  framing: TransactionFraming,
): { sql: string; values: unknown[] } {
  const statements: string[] = [];
  const values: unknown[] = [];
  const { records, entries } = write;
  if (records.length > 0) {
    statements.push(RECORD_INSERT + records.map(() => RECORD_ROW).join(', '));
    for (const record of records) {
      values.push(
        record.key.scope,
        record.key.key,
        RecordFormat.CURRENT,
        record.rpc,
        Buffer.from(record.fingerprint),
        record.operationId,
        Buffer.from(record.reply.sealedReply),
        record.reply.sealedSecrets === null ? null : Buffer.from(record.reply.sealedSecrets),
        record.reply.secretsExpireAt,
        record.now,
        record.expiresAt,
      );
    }
  }
  if (write.clearFailuresOf !== null) {
    statements.push(FAILURES_CLEAR);
    values.push(Buffer.from(write.clearFailuresOf));
  }
  statements.push(CARD_SAVE);
  values.push(...cardSaveValues(write.card, write.now));
  statements.push(LEDGER_INSERT_INTO + entries.map(() => LEDGER_ROW).join(', '));
  for (const entry of entries) values.push(...ledgerAppendValues(entry));
  if (encode !== undefined && write.events.length > 0) {
    statements.push(OUTBOX_INSERT + write.events.map(() => OUTBOX_ROW).join(', '));
    for (const event of write.events) {
      values.push(event.eventId, event.cardId.toString(), event.type, Buffer.from(encode(event)), event.occurredAt);
    }
  }
  statements.push(framing.commit);
  return { sql: statements.join('; '), values };
}
