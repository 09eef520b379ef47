import { randomBytes, randomUUID } from 'node:crypto';
import { createPool, type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import type { BenchCard } from './cards';
import { AMOUNT_MINOR, CURRENCY, ISSUE_AMOUNT_MINOR } from './scenarios';
import type { PlannedCall, Workload } from './workload';

/*
 * The database ceiling: the statements the service sends for each operation, verbatim, sent
 * through a plain mysql2 pool with the service's pool options and nothing else in between. sql-drift-check.ts traces both at the start of every run and stops the bench
 * if they ever differ, so this file cannot silently fall behind the repositories.
 */
const IDEMPOTENCY_FIND =
  'SELECT record_format, fingerprint, sealed_response, sealed_secrets, secrets_expire_at, rpc, sealed_reversal ' +
  'FROM idempotency_record WHERE caller = ? AND idempotency_key = ?';
const SESSION_ISOLATION = 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED';
const BEGIN = 'START TRANSACTION';
const CARD_LOCK_BY_NUMBER_HASH =
  'SELECT id, public_id, number_last4, passcode_hash, currency, balance_minor, status, expires_at, ' +
  'successor_card_id, held_minor, open_holds, next_hold_expires_at FROM gift_card WHERE number_hash = ? FOR UPDATE';
const PASSCODE_FAILURES_FIND =
  'SELECT failed_attempts, locked_until, last_failure_at FROM passcode_failure WHERE number_hash = ?';
const IDEMPOTENCY_CLAIM =
  'INSERT INTO idempotency_record (caller, idempotency_key, record_format, rpc, fingerprint, operation_id, ' +
  'sealed_response, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)';
const CARD_SAVE =
  'UPDATE gift_card SET balance_minor = ?, status = ?, successor_card_id = ?, held_minor = ?, open_holds = ?, ' +
  'next_hold_expires_at = ?, updated_at = ? WHERE id = ?';
const CARD_INSERT =
  'INSERT INTO gift_card (public_id, number_hash, number_last4, passcode_hash, currency, balance_minor, status, ' +
  'expires_at, successor_card_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const LEDGER_APPEND =
  'INSERT INTO ledger_entry (public_id, card_id, operation_id, entry_type, amount_minor, balance_after_minor, ' +
  'available_after_minor, currency, external_ref, refund_of_entry_id, hold_id, reverses_entry_id, created_at) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const IDEMPOTENCY_COMPLETE =
  'UPDATE idempotency_record SET sealed_response = ?, sealed_secrets = ?, secrets_expire_at = ? ' +
  'WHERE caller = ? AND idempotency_key = ?';
/** The bench runs without a callers file: every key is the anonymous caller's. */
const KEY_SCOPE = '';
const COMMIT = 'COMMIT';
/*
 * The single-card path (src/persistence/card-path.ts): two round trips, each one multi-statement
 * text query on a pool of its own; the session settings ride along with a connection's first one.
 */
const SESSION_SETUP_BATCH =
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; SET SESSION innodb_lock_wait_timeout = ';
const LOCK_BATCH = `${BEGIN}; ${CARD_LOCK_BY_NUMBER_HASH}; ${PASSCODE_FAILURES_FIND}`;
const RECORD_INSERT =
  'INSERT INTO idempotency_record (caller, idempotency_key, record_format, rpc, fingerprint, operation_id, ' +
  'sealed_response, sealed_secrets, secrets_expire_at, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const WRITE_BATCH = `${RECORD_INSERT}; ${CARD_SAVE}; ${LEDGER_APPEND}; ${COMMIT}`;
const ROLLBACK = 'ROLLBACK';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The idempotency record format the service writes (RecordFormat.CURRENT). */
const RECORD_FORMAT = 2;
/**
 * Stand-ins of the service's sizes: an HMAC-SHA256 fingerprint, a sealed ~200-byte response, and
 * a new card's number and passcode sealed apart.
 */
const FINGERPRINT = randomBytes(32);
const SEALED_RESPONSE = randomBytes(228);
const SEALED_SECRETS = randomBytes(80);

interface LockedCard extends RowDataPacket {
  id: string;
  balance_minor: string;
  status: string;
  currency: string;
  successor_card_id: string | null;
  held_minor: string;
  open_holds: number;
  next_hold_expires_at: Date | null;
}

/** runOnce's claim of the idempotency key, as IdempotencyRepository.claim writes it; the operation's id. */
async function claim(connection: PoolConnection, key: string, rpc: string, now: Date): Promise<string> {
  const operationId = randomUUID();
  await connection.query(IDEMPOTENCY_CLAIM, [
    KEY_SCOPE,
    key,
    RECORD_FORMAT,
    rpc,
    FINGERPRINT,
    operationId,
    now,
    new Date(now.getTime() + DAY_MS),
  ]);
  return operationId;
}

export interface SqlWorkloadOptions {
  readonly databaseUrl: string;
  readonly connections: number;
  /** The service's DB_LOCK_WAIT_TIMEOUT_SECONDS, set per session exactly as it does. */
  readonly lockWaitTimeoutSeconds: number;
}

export class SqlWorkload implements Workload {
  private readonly pool: Pool;
  /** The single-card path's pool: same options, multiple statements per round trip. */
  private readonly cardPool: Pool;
  private readonly cardPoolPrepared = new WeakSet();
  /** Connections whose session settings are applied, as TypeOrmUnitOfWork keeps them. */
  private readonly prepared = new WeakSet();
  private readonly numberHashes = new Map<string, Buffer>();

  constructor(private readonly options: SqlWorkloadOptions) {
    // The options TypeORM's mysql driver passes to mysql2 for the service (data-source.ts).
    this.pool = createPool({
      uri: options.databaseUrl,
      connectionLimit: options.connections,
      supportBigNumbers: true,
      bigNumberStrings: true,
      timezone: 'Z',
      charset: 'utf8mb4_bin',
      enableKeepAlive: true,
      // TypeORM drives mysql2 through its callback API, which captures no stack per statement;
      // the promise API does unless told not to, and the ceiling should not pay for it.
      trace: false,
    });
    this.cardPool = createPool({
      uri: options.databaseUrl,
      connectionLimit: options.connections,
      supportBigNumbers: true,
      bigNumberStrings: true,
      timezone: 'Z',
      charset: 'utf8mb4_bin',
      enableKeepAlive: true,
      multipleStatements: true,
      trace: false,
    });
  }

  perform(call: PlannedCall): Promise<void> {
    switch (call.operation) {
      case 'redeem':
      case 'redeem-hot':
        return this.moveMoney(call, -AMOUNT_MINOR, 'REDEEM', null);
      case 'reload':
        return this.moveMoney(call, AMOUNT_MINOR, 'RELOAD', `reload-${call.idempotencyKey}`);
      case 'inquiry':
        return this.inquiry(call.card);
      case 'issue':
        return this.issue(call.idempotencyKey);
    }
  }

  classify(error: unknown): string {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : 'CLIENT_ERROR';
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.cardPool.end()]);
  }

  /**
   * Redeem and Reload by card number and passcode, as the single-card path sends them: the locked
   * read of the card and of its number's passcode failures, then the key's record with its sealed
   * reply, the card, the entry and COMMIT in one round trip. No key lookup anywhere: the key's
   * primary key refuses a replay inside the transaction.
   */
  private async moveMoney(call: PlannedCall, amountMinor: bigint, entryType: string, externalRef: string | null) {
    const key = call.idempotencyKey;
    const connection = await this.cardPool.getConnection();
    try {
      const numberHash = this.numberHash(call.card);
      const results = await this.lock(connection, numberHash);
      const card = (results[results.length - 2] as LockedCard[])[0];
      if (card === undefined) throw new Error(`seeded card ${call.card.id} is missing`);
      const now = new Date();
      const balance = BigInt(card.balance_minor) + amountMinor;
      await connection.query(WRITE_BATCH, [
        KEY_SCOPE,
        key,
        RECORD_FORMAT,
        entryType === 'REDEEM' ? 'Redeem' : 'Reload',
        FINGERPRINT,
        randomUUID(),
        SEALED_RESPONSE,
        null,
        null,
        now,
        new Date(now.getTime() + DAY_MS),
        balance.toString(),
        card.status,
        card.successor_card_id,
        card.held_minor,
        card.open_holds,
        card.next_hold_expires_at,
        now,
        card.id,
        randomUUID(),
        card.id,
        randomUUID(),
        entryType,
        amountMinor.toString(),
        balance.toString(),
        (balance - BigInt(card.held_minor)).toString(),
        card.currency,
        externalRef,
        null,
        null,
        null,
        now,
      ]);
    } catch (error) {
      await connection.query(ROLLBACK).catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  }

  /** BalanceInquiry locks the card too, so a wrong passcode is judged under the row lock; then COMMIT. */
  private async inquiry(card: BenchCard): Promise<void> {
    const connection = await this.cardPool.getConnection();
    try {
      await this.lock(connection, this.numberHash(card));
      await connection.query(COMMIT);
    } catch (error) {
      await connection.query(ROLLBACK).catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  }

  /** The first round trip, with the session settings on a connection's first use. */
  private async lock(connection: PoolConnection, numberHash: Buffer): Promise<unknown[]> {
    const setup = this.cardPoolPrepared.has(connection.connection)
      ? ''
      : `${SESSION_SETUP_BATCH}${this.options.lockWaitTimeoutSeconds.toFixed(0)}; `;
    const [results] = await connection.query(setup + LOCK_BATCH, [numberHash, numberHash]);
    this.cardPoolPrepared.add(connection.connection);
    return results as unknown[];
  }

  private async issue(key: string): Promise<void> {
    await this.pool.query(IDEMPOTENCY_FIND, [KEY_SCOPE, key]);
    await this.inTransaction(async (connection) => {
      const now = new Date();
      const operationId = await claim(connection, key, 'IssueVirtualCard', now);
      const amount = ISSUE_AMOUNT_MINOR.toString();
      const [inserted] = await connection.query<ResultSetHeader>(CARD_INSERT, [
        randomUUID(),
        randomBytes(32),
        '0000',
        FINGERPRINT,
        CURRENCY,
        amount,
        'ACTIVE',
        null,
        null,
        now,
        now,
      ]);
      await connection.query(LEDGER_APPEND, [
        randomUUID(),
        String(inserted.insertId),
        operationId,
        'ISSUE',
        amount,
        amount,
        amount,
        CURRENCY,
        `purchase-${key}`,
        null,
        null,
        null,
        now,
      ]);
      await connection.query(IDEMPOTENCY_COMPLETE, [
        SEALED_RESPONSE,
        SEALED_SECRETS,
        new Date(now.getTime() + HOUR_MS),
        KEY_SCOPE,
        key,
      ]);
    });
  }

  /** TypeOrmUnitOfWork.runOnce: session settings once per connection, then one transaction. */
  private async inTransaction(work: (connection: PoolConnection) => Promise<void>): Promise<void> {
    const connection = await this.pool.getConnection();
    try {
      if (!this.prepared.has(connection.connection)) {
        await connection.query(SESSION_ISOLATION);
        await connection.query(
          `SET SESSION innodb_lock_wait_timeout = ${this.options.lockWaitTimeoutSeconds.toFixed(0)}`,
        );
        this.prepared.add(connection.connection);
      }
      await connection.query(BEGIN);
      await work(connection);
      await connection.query(COMMIT);
    } catch (error) {
      await connection.query(ROLLBACK).catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  }

  /** The service computes this HMAC per call; it is CPU, not database, so the ceiling reuses it. */
  private numberHash(card: BenchCard): Buffer {
    let hash = this.numberHashes.get(card.id);
    if (hash === undefined) {
      hash = Buffer.from(card.numberHashHex, 'hex');
      this.numberHashes.set(card.id, hash);
    }
    return hash;
  }
}
