import type { Connection, RowDataPacket } from 'mysql2/promise';

/** The newest card and ledger entry before the workload: everything after them is the workload's. */
export interface Watermark {
  readonly cardId: bigint;
  readonly entryId: bigint;
}

export async function watermark(db: Connection): Promise<Watermark> {
  const [[row]] = await db.query<RowDataPacket[]>(
    `SELECT (SELECT COALESCE(MAX(id), 0) FROM gift_card) AS card_id,
            (SELECT COALESCE(MAX(id), 0) FROM ledger_entry) AS entry_id`,
  );
  return { cardId: BigInt(String(row?.card_id)), entryId: BigInt(String(row?.entry_id)) };
}

/** A ledger entry as the checker reads it. */
export interface EntryRow {
  readonly id: bigint;
  readonly publicId: string;
  readonly cardPublicId: string;
  readonly cardId: bigint;
  readonly operationId: string;
  readonly type: string;
  readonly amountMinor: bigint;
  /** Absent in the snapshots the checker's own tests build by hand. */
  readonly currency?: string;
  readonly externalRef: string | null;
  /** Null on entries written before holds existed. */
  readonly availableAfterMinor?: bigint | null;
  /** The redemption a REFUND gives back. */
  readonly refundOfEntryId?: bigint | null;
  /** The entry a REVERSAL undoes. */
  readonly reversesEntryId?: bigint | null;
  /** The hold a capture's REDEEM entry captured. */
  readonly holdId?: bigint | null;
}

/** A card as the checker reads it. */
export interface CardRow {
  readonly id: bigint;
  readonly publicId: string;
  readonly balanceMinor: bigint;
  /** Absent in the snapshots the checker's own tests build by hand. */
  readonly currency?: string;
  /** The card's tally of its open holds. */
  readonly heldMinor?: bigint;
}

/**
 * Every card, ledger entry and hold written after the watermark, and the stored claims of the
 * run's keys: what the checker judges.
 */
export interface LedgerSnapshot {
  readonly since: Watermark;
  readonly entries: readonly EntryRow[];
  readonly cards: readonly CardRow[];
  /** Each stored key of the run, with the operation id its record names (every entry it wrote carries it). */
  readonly claims: ReadonlyMap<string, string | null>;
  readonly holds?: readonly HoldRow[];
}

/** A hold as the checker reads it. */
export interface HoldRow {
  readonly id: bigint;
  readonly publicId: string;
  readonly cardId: bigint;
  readonly amountMinor: bigint;
  readonly status: string;
  readonly capturedMinor: bigint | null;
}

/** Keys per statement when reading claims: well under max_allowed_packet. */
const KEYS_PER_QUERY = 1_000;

export async function loadSnapshot(db: Connection, since: Watermark, keys: readonly string[]): Promise<LedgerSnapshot> {
  return {
    since,
    entries: await loadEntries(db, since),
    cards: await loadCards(db, since),
    claims: await loadClaims(db, keys),
    holds: await loadHolds(db, since),
  };
}

async function loadClaims(db: Connection, keys: readonly string[]): Promise<Map<string, string | null>> {
  const claims = new Map<string, string | null>();
  for (let start = 0; start < keys.length; start += KEYS_PER_QUERY) {
    const [rows] = await db.query<RowDataPacket[]>(
      'SELECT idempotency_key, operation_id FROM idempotency_record WHERE idempotency_key IN (?)',
      [keys.slice(start, start + KEYS_PER_QUERY)],
    );
    for (const row of rows)
      claims.set(String(row.idempotency_key), row.operation_id === null ? null : String(row.operation_id));
  }
  return claims;
}

/** A BIGINT column that may be NULL, as mysql2 returns it with bigNumberStrings. */
const bigintOrNull = (value: unknown): bigint | null => (typeof value === 'string' ? BigInt(value) : null);

async function loadEntries(db: Connection, since: Watermark): Promise<EntryRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT e.id, e.public_id, c.public_id AS card_public_id, e.card_id, e.operation_id, e.entry_type,
            e.amount_minor, e.currency, e.external_ref, e.available_after_minor, e.refund_of_entry_id, e.reverses_entry_id,
            e.hold_id
     FROM ledger_entry e JOIN gift_card c ON c.id = e.card_id
     WHERE e.id > ? ORDER BY e.id`,
    [since.entryId.toString()],
  );
  return rows.map((r) => ({
    id: BigInt(String(r.id)),
    publicId: String(r.public_id),
    cardPublicId: String(r.card_public_id),
    cardId: BigInt(String(r.card_id)),
    operationId: String(r.operation_id),
    type: String(r.entry_type),
    amountMinor: BigInt(String(r.amount_minor)),
    currency: String(r.currency),
    externalRef: r.external_ref === null ? null : String(r.external_ref),
    availableAfterMinor: bigintOrNull(r.available_after_minor),
    refundOfEntryId: bigintOrNull(r.refund_of_entry_id),
    reversesEntryId: bigintOrNull(r.reverses_entry_id),
    holdId: bigintOrNull(r.hold_id),
  }));
}

async function loadCards(db: Connection, since: Watermark): Promise<CardRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT id, public_id, currency, balance_minor, held_minor FROM gift_card WHERE id > ? ORDER BY id',
    [since.cardId.toString()],
  );
  return rows.map((r) => ({
    id: BigInt(String(r.id)),
    publicId: String(r.public_id),
    balanceMinor: BigInt(String(r.balance_minor)),
    currency: String(r.currency),
    heldMinor: BigInt(String(r.held_minor)),
  }));
}

async function loadHolds(db: Connection, since: Watermark): Promise<HoldRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT id, public_id, card_id, amount_minor, status, captured_minor FROM card_hold
     WHERE card_id > ? ORDER BY id`,
    [since.cardId.toString()],
  );
  return rows.map((r) => ({
    id: BigInt(String(r.id)),
    publicId: String(r.public_id),
    cardId: BigInt(String(r.card_id)),
    amountMinor: BigInt(String(r.amount_minor)),
    status: String(r.status),
    capturedMinor: bigintOrNull(r.captured_minor),
  }));
}
