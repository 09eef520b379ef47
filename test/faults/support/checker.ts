import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { CallRecord } from './workload';

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

export interface Invariant {
  readonly name: string;
  readonly holds: boolean;
}

export interface CheckReport {
  readonly acknowledged: number;
  readonly refused: number;
  readonly unresolved: number;
  /** Acknowledged calls whose entries are missing or differ from what the answer said. */
  readonly lost: number;
  /** Entries beyond an acknowledged call's own, entries of refused calls, entries nobody was told of. */
  readonly duplicated: number;
  /** Cards whose balance is not the sum of their entries or of their answers: lost updates. */
  readonly balancesOff: number;
  readonly invariants: readonly Invariant[];
  /** One line per finding, naming the call or card: empty when every invariant holds. */
  readonly violations: readonly string[];
  readonly totals: Readonly<Record<string, string>>;
}

interface EntryRow {
  readonly id: bigint;
  readonly publicId: string;
  readonly cardPublicId: string;
  readonly cardId: bigint;
  readonly operationId: string;
  readonly type: string;
  readonly amountMinor: bigint;
  readonly externalRef: string | null;
}

interface CardRow {
  readonly id: bigint;
  readonly publicId: string;
  readonly balanceMinor: bigint;
}

const EXTERNAL_FLOWS = new Set(['ISSUE', 'RELOAD', 'REDEEM', 'REFUND']);
/** More findings than this only repeat the story; the counts still cover them all. */
const MAX_LISTED = 20;

/**
 * Reads the database after a run and holds it against what clients were told (Jepsen's bank
 * checker, with an exact model): every acknowledged call is in the ledger exactly once, nothing
 * else is, no refused call left an entry, every balance is the sum of its entries and of what the
 * answers said, money is conserved and no balance is negative.
 */
export async function checkLedger(
  db: Connection,
  since: Watermark,
  records: readonly CallRecord[],
): Promise<CheckReport> {
  const entries = await loadEntries(db, since);
  const cards = await loadCards(db, since);
  const found = new Findings();

  const byPublicId = new Map(entries.map((e) => [e.publicId, e]));
  const byRef = groupBy(entries, (e) => e.externalRef);
  const accounted = new Set<bigint>();
  const acknowledged = records.filter((r) => r.outcome === 'acknowledged');
  let lost = 0;
  let duplicated = 0;

  for (const call of acknowledged) {
    let missing = false;
    for (const effect of call.effects) {
      if (effect.transactionId === null) continue;
      const entry = byPublicId.get(effect.transactionId);
      if (entry?.cardPublicId !== effect.giftCardId || entry.amountMinor !== effect.deltaMinor) {
        missing = true;
        found.add(
          'lost',
          `${call.operation} ${call.key ?? ''}: no entry ${effect.transactionId} of ${effect.deltaMinor} on ${effect.giftCardId}`,
        );
      } else {
        accounted.add(entry.id);
      }
    }
    if (missing) lost++;
    if (call.externalRef !== null) {
      const extra = (byRef.get(call.externalRef) ?? []).filter((e) => !accounted.has(e.id));
      for (const entry of extra) {
        duplicated++;
        accounted.add(entry.id);
        found.add(
          'duplicated',
          `${call.operation} ${call.key ?? ''}: applied again as entry ${entry.publicId} (${entry.type} ${entry.amountMinor})`,
        );
      }
    }
  }

  for (const call of records.filter((r) => r.outcome === 'refused' && r.externalRef !== null)) {
    for (const entry of byRef.get(call.externalRef ?? '') ?? []) {
      duplicated++;
      accounted.add(entry.id);
      found.add(
        'refused-applied',
        `${call.operation} ${call.key ?? ''}: refused ${call.refusal?.reason ?? ''} yet entry ${entry.publicId} exists`,
      );
    }
  }

  // An operation's other entries (a transfer's far side) belong to the call that names one of them.
  const acknowledgedOperations = new Set(entries.filter((e) => accounted.has(e.id)).map((e) => e.operationId));
  const unresolvedRefs = new Set(records.filter((r) => r.outcome === 'unresolved').map((r) => r.externalRef));
  for (const entry of entries) {
    if (accounted.has(entry.id) || acknowledgedOperations.has(entry.operationId)) continue;
    if (unresolvedRefs.has(entry.externalRef)) continue;
    duplicated++;
    found.add(
      'phantom',
      `entry ${entry.publicId} (${entry.type} ${entry.amountMinor} on ${entry.cardPublicId}) answers no acknowledged call`,
    );
  }

  const expected = new Map<string, bigint>();
  for (const call of acknowledged) {
    for (const effect of call.effects)
      expected.set(effect.giftCardId, (expected.get(effect.giftCardId) ?? 0n) + effect.deltaMinor);
  }
  let balancesOff = 0;
  const ledgerSums = new Map<bigint, bigint>();
  for (const entry of entries) ledgerSums.set(entry.cardId, (ledgerSums.get(entry.cardId) ?? 0n) + entry.amountMinor);
  for (const card of cards) {
    const ledgerSum = ledgerSums.get(card.id) ?? 0n;
    const told = expected.get(card.publicId);
    if (card.balanceMinor !== ledgerSum || card.balanceMinor !== told) balancesOff++;
    if (card.balanceMinor !== ledgerSum) {
      found.add(
        'balance-vs-ledger',
        `card ${card.publicId}: balance ${card.balanceMinor}, entries sum to ${ledgerSum}`,
      );
    }
    if (card.balanceMinor < 0n) found.add('negative', `card ${card.publicId}: balance ${card.balanceMinor}`);
    if (told === undefined) found.add('model', `card ${card.publicId} was never issued to any client`);
    else if (told !== card.balanceMinor) {
      found.add(
        'model',
        `card ${card.publicId}: balance ${card.balanceMinor}, the acknowledged calls add up to ${told}`,
      );
    }
  }
  for (const [giftCardId] of expected) {
    if (!cards.some((c) => c.publicId === giftCardId))
      found.add('model', `card ${giftCardId} was acknowledged but is not stored`);
  }
  const entriesOnOlderCards = entries.filter((e) => e.cardId <= since.cardId);
  for (const entry of entriesOnOlderCards)
    found.add('phantom', `entry ${entry.publicId} touched card ${entry.cardPublicId}, which no client used`);

  const sum = (values: Iterable<bigint>): bigint => [...values].reduce((a, b) => a + b, 0n);
  const balances = sum(cards.map((c) => c.balanceMinor));
  const byType = (type: string): bigint => sum(entries.filter((e) => e.type === type).map((e) => e.amountMinor));
  const flows = sum(entries.filter((e) => EXTERNAL_FLOWS.has(e.type)).map((e) => e.amountMinor));
  const internal = sum(entries.filter((e) => !EXTERNAL_FLOWS.has(e.type)).map((e) => e.amountMinor));
  if (balances !== flows || internal !== 0n) {
    found.add(
      'conservation',
      `balances ${balances} but issued + reloaded - redeemed + refunded = ${flows}, moves between cards net ${internal}`,
    );
  }

  const unresolved = records.filter((r) => r.outcome === 'unresolved');
  for (const call of unresolved)
    found.add('unresolved', `${call.operation} ${call.key ?? ''} never got a definite answer`);

  return {
    acknowledged: acknowledged.length,
    refused: records.filter((r) => r.outcome === 'refused').length,
    unresolved: unresolved.length,
    lost,
    duplicated,
    balancesOff,
    invariants: [
      { name: 'every acknowledged call is in the ledger exactly once', holds: !found.any('lost', 'duplicated') },
      { name: 'nothing is in the ledger that no client was told of', holds: !found.any('phantom') },
      { name: 'no refused call left a ledger entry', holds: !found.any('refused-applied') },
      { name: "every card's balance equals the sum of its ledger entries", holds: !found.any('balance-vs-ledger') },
      { name: "every card's balance equals what its acknowledged calls add up to", holds: !found.any('model') },
      { name: 'sum of balances = issued + reloaded - redeemed + refunded', holds: !found.any('conservation') },
      { name: 'no balance is negative', holds: !found.any('negative') },
      { name: 'every call ended with a definite answer', holds: !found.any('unresolved') },
    ],
    violations: found.lines(),
    totals: {
      balances: balances.toString(),
      issued: byType('ISSUE').toString(),
      reloaded: byType('RELOAD').toString(),
      redeemed: (-byType('REDEEM')).toString(),
      refunded: byType('REFUND').toString(),
      cards: String(cards.length),
      entries: String(entries.length),
    },
  };
}

class Findings {
  private readonly byKind = new Map<string, string[]>();

  add(kind: string, line: string): void {
    const lines = this.byKind.get(kind) ?? [];
    lines.push(line);
    this.byKind.set(kind, lines);
  }

  any(...kinds: string[]): boolean {
    return kinds.some((kind) => (this.byKind.get(kind)?.length ?? 0) > 0);
  }

  lines(): string[] {
    return [...this.byKind].flatMap(([kind, lines]) => [
      ...lines.slice(0, MAX_LISTED).map((line) => `${kind}: ${line}`),
      ...(lines.length > MAX_LISTED ? [`${kind}: ... and ${lines.length - MAX_LISTED} more`] : []),
    ]);
  }
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

async function loadEntries(db: Connection, since: Watermark): Promise<EntryRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT e.id, e.public_id, c.public_id AS card_public_id, e.card_id, e.operation_id, e.entry_type,
            e.amount_minor, e.external_ref
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
    externalRef: r.external_ref === null ? null : String(r.external_ref),
  }));
}

async function loadCards(db: Connection, since: Watermark): Promise<CardRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT id, public_id, balance_minor FROM gift_card WHERE id > ? ORDER BY id',
    [since.cardId.toString()],
  );
  return rows.map((r) => ({
    id: BigInt(String(r.id)),
    publicId: String(r.public_id),
    balanceMinor: BigInt(String(r.balance_minor)),
  }));
}
