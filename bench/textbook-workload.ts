import { randomBytes, randomUUID } from 'node:crypto';
import { createConnection, type Connection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import type { BenchCard } from './cards';
import { AMOUNT_MINOR, CURRENCY, ISSUE_AMOUNT_MINOR, type Scenario } from './scenarios';
import type { PlannedCall, Workload } from './workload';

/*
 * The textbook ceiling: a money movement as a textbook writes it, one statement per round trip on
 * one connection per virtual user, with nothing the service adds (no session settings, no
 * passcode-failure read, no pre-transaction key lookup, only the columns a ledger needs). Where
 * the database ceiling asks "what do the service's own statements cost", this one asks "what does
 * the least a correct locked, exactly-once ledger write costs": the gap between the two is the
 * price of the service's extra statements and columns.
 */
const BEGIN = 'BEGIN';
const CARD_LOCK = 'SELECT id, balance_minor FROM gift_card WHERE number_hash = ? FOR UPDATE';
const KEY_INSERT =
  'INSERT INTO idempotency_record (caller, idempotency_key, record_format, rpc, fingerprint, operation_id, ' +
  'created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
const BALANCE_UPDATE = 'UPDATE gift_card SET balance_minor = ?, updated_at = ? WHERE id = ?';
const CARD_INSERT =
  'INSERT INTO gift_card (public_id, number_hash, number_last4, passcode_hash, currency, balance_minor, status, ' +
  'created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
const LEDGER_INSERT =
  'INSERT INTO ledger_entry (public_id, card_id, operation_id, entry_type, amount_minor, balance_after_minor, ' +
  'currency, external_ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
const KEY_UPDATE = 'UPDATE idempotency_record SET sealed_response = ? WHERE caller = ? AND idempotency_key = ?';
const COMMIT = 'COMMIT';
const ROLLBACK = 'ROLLBACK';

/**
 * The statements of one textbook redemption, in order: what the self-check expects to trace.
 * Exported so the check and the workload cannot disagree on what "textbook" means.
 */
export const TEXTBOOK_REDEMPTION: readonly string[] = [
  BEGIN,
  CARD_LOCK,
  KEY_INSERT,
  BALANCE_UPDATE,
  LEDGER_INSERT,
  KEY_UPDATE,
  COMMIT,
];

/**
 * Scenarios with a natural textbook form. BalanceInquiry has none: the service locks the card to
 * count wrong passcodes, a textbook reads it plainly, and either choice would be ours, not the
 * book's; the mix contains inquiries, so it has none either.
 */
export const TEXTBOOK_SCENARIOS: readonly Scenario[] = ['redeem-distinct', 'redeem-hot', 'issue-virtual-card'];

const DAY_MS = 86_400_000;
const KEY_SCOPE = '';
const RECORD_FORMAT = 2;
/** Same sizes as the database ceiling's stand-ins: a fingerprint and a sealed response. */
const FINGERPRINT = randomBytes(32);
const SEALED_RESPONSE = randomBytes(228);

interface LockedCard extends RowDataPacket {
  id: string;
  balance_minor: string;
}

export class InsufficientFunds extends Error {
  readonly code = 'INSUFFICIENT_FUNDS';
}

export class TextbookWorkload implements Workload {
  /** One connection per virtual user, opened on its first call and kept for the cell. */
  private readonly connections = new Map<number, Promise<Connection>>();

  constructor(private readonly databaseUrl: string) {}

  perform(call: PlannedCall): Promise<void> {
    switch (call.operation) {
      case 'redeem':
      case 'redeem-hot':
        return this.moveMoney(call, -AMOUNT_MINOR, 'REDEEM', 'Redeem', null);
      case 'reload':
        return this.moveMoney(call, AMOUNT_MINOR, 'RELOAD', 'Reload', `reload-${call.idempotencyKey}`);
      case 'issue':
        return this.issue(call);
      case 'inquiry':
        return Promise.reject(new Error('BalanceInquiry has no textbook form in this bench'));
    }
  }

  classify(error: unknown): string {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : 'CLIENT_ERROR';
  }

  async close(): Promise<void> {
    const open = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(open.map(async (connection) => (await connection).end().catch(() => undefined)));
  }

  private async moveMoney(
    call: PlannedCall,
    amountMinor: bigint,
    entryType: string,
    rpc: string,
    externalRef: string | null,
  ): Promise<void> {
    await this.inTransaction(call.user, async (connection) => {
      const [rows] = await connection.query<LockedCard[]>(CARD_LOCK, [numberHash(call.card)]);
      const card = rows[0];
      if (card === undefined) throw new Error(`seeded card ${call.card.id} is missing`);
      const balance = BigInt(card.balance_minor) + amountMinor;
      if (balance < 0n) throw new InsufficientFunds(`card ${call.card.id} cannot pay ${-amountMinor}`);
      const now = new Date();
      const operationId = await claim(connection, call.idempotencyKey, rpc, now);
      await connection.query(BALANCE_UPDATE, [balance.toString(), now, card.id]);
      await connection.query(LEDGER_INSERT, [
        randomUUID(),
        card.id,
        operationId,
        entryType,
        amountMinor.toString(),
        balance.toString(),
        CURRENCY,
        externalRef,
        now,
      ]);
      await connection.query(KEY_UPDATE, [SEALED_RESPONSE, KEY_SCOPE, call.idempotencyKey]);
    });
  }

  private async issue(call: PlannedCall): Promise<void> {
    await this.inTransaction(call.user, async (connection) => {
      const now = new Date();
      const operationId = await claim(connection, call.idempotencyKey, 'IssueVirtualCard', now);
      const amount = ISSUE_AMOUNT_MINOR.toString();
      const [inserted] = await connection.query<ResultSetHeader>(CARD_INSERT, [
        randomUUID(),
        randomBytes(32),
        '0000',
        FINGERPRINT,
        CURRENCY,
        amount,
        'ACTIVE',
        now,
        now,
      ]);
      await connection.query(LEDGER_INSERT, [
        randomUUID(),
        String(inserted.insertId),
        operationId,
        'ISSUE',
        amount,
        amount,
        CURRENCY,
        `purchase-${call.idempotencyKey}`,
        now,
      ]);
      await connection.query(KEY_UPDATE, [SEALED_RESPONSE, KEY_SCOPE, call.idempotencyKey]);
    });
  }

  private async inTransaction(user: number, work: (connection: Connection) => Promise<void>): Promise<void> {
    const connection = await this.connectionFor(user);
    await connection.query(BEGIN);
    try {
      await work(connection);
      await connection.query(COMMIT);
    } catch (error) {
      await connection.query(ROLLBACK).catch(() => undefined);
      throw error;
    }
  }

  private connectionFor(user: number): Promise<Connection> {
    let connection = this.connections.get(user);
    if (connection === undefined) {
      connection = createConnection({
        uri: this.databaseUrl,
        supportBigNumbers: true,
        bigNumberStrings: true,
        timezone: 'Z',
        charset: 'utf8mb4_bin',
        // As in the database ceiling: no stack captured per statement.
        trace: false,
      });
      this.connections.set(user, connection);
    }
    return connection;
  }
}

/** The idempotency insert: a duplicate key here is how a textbook finds a replay. */
async function claim(connection: Connection, key: string, rpc: string, now: Date): Promise<string> {
  const operationId = randomUUID();
  await connection.query(KEY_INSERT, [
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

const numberHashes = new Map<string, Buffer>();

/** The lookup key: the service's HMAC of the number, computed at seeding (CPU, not database). */
function numberHash(card: BenchCard): Buffer {
  let hash = numberHashes.get(card.id);
  if (hash === undefined) {
    hash = Buffer.from(card.numberHashHex, 'hex');
    numberHashes.set(card.id, hash);
  }
  return hash;
}
