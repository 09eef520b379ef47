import type { Connection } from 'mysql2/promise';
import { figuresByCurrency, type CurrencyFigures } from './currency-totals';
import { judgeHolds, judgeReversals } from './hold-and-reversal-checks';
import { loadSnapshot, type EntryRow, type LedgerSnapshot, type Watermark } from './ledger-snapshot';
import type { BalanceEffect } from './planned-call';
import type { CallRecord } from './workload';

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
  /** The same rows counted per currency, as ReconcileLedger reports them. */
  readonly byCurrency: Readonly<Record<string, CurrencyFigures>>;
}

/**
 * Money entering or leaving the cards; a REVERSAL undoes one of these, and an operator's
 * ADJUSTMENT creates or destroys money on purpose, so it is accounted for as a flow of its own.
 */
const EXTERNAL_FLOWS = new Set(['ISSUE', 'RELOAD', 'REDEEM', 'REFUND', 'REVERSAL', 'ADJUSTMENT']);
/** More findings than this only repeat the story; the counts still cover them all. */
const MAX_LISTED = 20;

/**
 * Reads the database after a run and holds it against what clients were told (Jepsen's bank
 * checker, with an exact model): every acknowledged call is in the ledger exactly once, nothing
 * else is, no refused call left an entry, every balance is the sum of its entries and of what the
 * answers said, money is conserved and no balance is negative; holds and reversals keep their
 * rules (hold-and-reversal-checks.ts).
 */
export async function checkLedger(
  db: Connection,
  since: Watermark,
  records: readonly CallRecord[],
): Promise<CheckReport> {
  const keys = [...new Set(records.flatMap((record) => (record.key === null ? [] : [record.key])))];
  return judgeLedger(await loadSnapshot(db, since, keys), records);
}

/** The checker's judgement of one snapshot of the tables; pure, so its own rules can be tested. */
export function judgeLedger(snapshot: LedgerSnapshot, records: readonly CallRecord[]): CheckReport {
  const { since, entries, cards } = snapshot;
  const found = new Findings();

  const ledger: LedgerIndex = {
    byPublicId: new Map(entries.map((e) => [e.publicId, e])),
    byRef: groupBy(
      entries.filter((e) => e.externalRef !== null),
      (e) => e.externalRef,
    ),
    byOperation: groupBy(entries, (e) => e.operationId),
    claims: snapshot.claims,
  };
  const accounted = new Set<bigint>();
  const acknowledged = records.filter((r) => r.outcome === 'acknowledged');
  let lost = 0;
  let duplicated = 0;

  for (const call of acknowledged) {
    const { missing, extra } = matchCall(call, ledger, accounted);
    if (missing.length > 0) lost++;
    for (const line of missing) found.add('lost', `${call.operation} ${call.key ?? ''}: ${line}`);
    for (const entry of extra) {
      duplicated++;
      accounted.add(entry.id);
      found.add(
        'duplicated',
        `${call.operation} ${call.key ?? ''}: applied again as entry ${entry.publicId} (${entry.type} ${entry.amountMinor})`,
      );
    }
  }

  // A call refused as reversed may have been applied and undone: judgeReversals holds it to that.
  const learned = judgeReversals(snapshot, records, ledger.byRef, accounted, (kind, line) => {
    found.add(kind, line);
  });
  judgeHolds(snapshot, (kind, line) => {
    found.add(kind, line);
  });

  // A refused call rolled back its key with its work: a stored key, or an entry found by its
  // reference or its key's operation, means it was applied although the client was told no. A
  // reversed key stays stored, and its call is judged by judgeReversals instead.
  const refusedOutright = (r: CallRecord): boolean =>
    r.outcome === 'refused' && r.refusal?.reason !== 'OPERATION_REVERSED';
  // A reversal that finds nothing stores the key it names, to refuse the call if it comes late.
  const reservedByReversal = new Set(records.flatMap((r) => (r.reversal === undefined ? [] : [r.reversal.key])));
  for (const call of records.filter(refusedOutright)) {
    const refused = `${call.operation} ${call.key ?? ''}: refused ${call.refusal?.reason ?? ''}`;
    if (call.key !== null && ledger.claims.has(call.key) && !reservedByReversal.has(call.key))
      found.add('refused-applied', `${refused} yet its key is stored`);
    for (const entry of entriesOfCall(call, ledger)) {
      if (accounted.has(entry.id)) continue;
      duplicated++;
      accounted.add(entry.id);
      found.add('refused-applied', `${refused} yet entry ${entry.publicId} exists`);
    }
  }

  // An unresolved call fails the run anyway (invariant 8): its entries are not reported twice.
  const unresolvedEntries = new Set(
    records.filter((r) => r.outcome === 'unresolved').flatMap((r) => entriesOfCall(r, ledger).map((e) => e.id)),
  );
  for (const entry of entries) {
    if (accounted.has(entry.id) || unresolvedEntries.has(entry.id)) continue;
    duplicated++;
    found.add(
      'phantom',
      `entry ${entry.publicId} (${entry.type} ${entry.amountMinor} on ${entry.cardPublicId}) answers no acknowledged call`,
    );
  }

  const expected = new Map<string, bigint>();
  for (const effect of [...acknowledged.flatMap((call) => call.effects), ...learned]) {
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
      `balances ${balances} but issued + reloaded - redeemed + refunded ± reversed ± adjusted = ${flows}, moves between cards net ${internal}`,
    );
  }
  // Each move between cards on its own takes from one side exactly what it gives the other.
  for (const [operationId, written] of ledger.byOperation) {
    const moves = written.filter((e) => !EXTERNAL_FLOWS.has(e.type));
    const net = sum(moves.map((e) => e.amountMinor));
    if (moves.length > 0 && net !== 0n)
      found.add('conservation', `operation ${operationId} moves money that nets ${net}`);
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
      {
        name: 'sum of balances = issued + reloaded - redeemed + refunded ± reversed ± adjusted',
        holds: !found.any('conservation'),
      },
      { name: 'no balance is negative', holds: !found.any('negative') },
      { name: 'no hold is captured twice, nor beyond what it held', holds: !found.any('hold') },
      { name: 'no available balance is negative, every hold tally is its open holds', holds: !found.any('available') },
      {
        name: 'every reversal undoes its call exactly once; nothing reversed stays applied',
        holds: !found.any('reversal'),
      },
      { name: 'no call sent after its key was reversed is applied', holds: !found.any('late-original') },
      { name: 'every call ended with a definite answer', holds: !found.any('unresolved') },
    ],
    violations: found.lines(),
    totals: {
      balances: balances.toString(),
      issued: byType('ISSUE').toString(),
      reloaded: byType('RELOAD').toString(),
      redeemed: (-byType('REDEEM')).toString(),
      refunded: byType('REFUND').toString(),
      transferred: byType('TRANSFER_IN').toString(),
      combined: byType('COMBINE_IN').toString(),
      reversed: byType('REVERSAL').toString(),
      adjusted: byType('ADJUSTMENT').toString(),
      holds: String(snapshot.holds?.length ?? 0),
      captured: String(entries.filter((e) => (e.holdId ?? null) !== null).length),
      cards: String(cards.length),
      entries: String(entries.length),
    },
    byCurrency: figuresByCurrency(snapshot),
  };
}

interface LedgerIndex {
  readonly byPublicId: ReadonlyMap<string, EntryRow>;
  readonly byRef: ReadonlyMap<string | null, readonly EntryRow[]>;
  readonly byOperation: ReadonlyMap<string, readonly EntryRow[]>;
  /** Stored keys and the operation each names. */
  readonly claims: ReadonlyMap<string, string | null>;
}

/** The operation id the call's stored key names, if its key is stored with one. */
function operationOfKey(call: CallRecord, ledger: LedgerIndex): string | null {
  return call.key === null ? null : (ledger.claims.get(call.key) ?? null);
}

/**
 * The entries the database says a call wrote, whatever its answer: those carrying its reference,
 * and every entry of the operation its key's record names (transfers and combines carry no
 * reference, but their key still leads to them).
 */
function entriesOfCall(call: CallRecord, ledger: LedgerIndex): EntryRow[] {
  const operationId = operationOfKey(call, ledger);
  // A REVERSAL carries the reference of what it undoes; it is its reversal's, by the id that one names.
  const referenced = call.externalRef === null ? [] : (ledger.byRef.get(call.externalRef) ?? []);
  const own = [
    ...referenced.filter((e) => e.type !== 'REVERSAL'),
    ...(operationId === null ? [] : (ledger.byOperation.get(operationId) ?? [])),
  ];
  return [...new Map(own.map((e) => [e.id, e])).values()];
}

/**
 * Finds one acknowledged call's entries, each entry answering one effect of one call: an effect
 * the answer names by entry id, the others among the entries of the operation they name, by card
 * and amount; every one of them of the operation the call's stored key names. Returns what is
 * missing (an effect no entry answers, or the key itself, without which a retry would apply the
 * call again), and the entries of the call that no effect answers (applied beyond what the client
 * was told): those its reference finds, and those of its key's operation and of every operation
 * its entries belong to.
 */
function matchCall(
  call: CallRecord,
  ledger: LedgerIndex,
  accounted: Set<bigint>,
): { missing: string[]; extra: EntryRow[] } {
  const missing: string[] = [];
  const keyOperation = operationOfKey(call, ledger);
  const operations = new Set<string>(keyOperation === null ? [] : [keyOperation]);
  if (call.key !== null && !ledger.claims.has(call.key)) missing.push('its key is not stored');
  const effect = (e: BalanceEffect): string => `${e.deltaMinor} on ${e.giftCardId}`;
  const foreign = (operationId: string): boolean => keyOperation !== null && operationId !== keyOperation;
  // Named effects first, so an unnamed one cannot take an entry a named one is owed.
  for (const named of call.effects) {
    if (named.transactionId === null) continue;
    const entry = ledger.byPublicId.get(named.transactionId);
    if (entry?.cardPublicId !== named.giftCardId || entry.amountMinor !== named.deltaMinor) {
      missing.push(`no entry ${named.transactionId} of ${effect(named)}`);
    } else if (foreign(entry.operationId)) {
      missing.push(`entry ${named.transactionId} of ${effect(named)} belongs to another key's operation`);
    } else if (accounted.has(entry.id)) {
      missing.push(`entry ${named.transactionId} of ${effect(named)} already answers another call`);
    } else {
      accounted.add(entry.id);
      operations.add(entry.operationId);
    }
  }
  for (const unnamed of call.effects) {
    if (unnamed.transactionId !== null) continue;
    if (foreign(unnamed.operationId)) {
      missing.push(`operation ${unnamed.operationId} of ${effect(unnamed)} is not the one its key names`);
      continue;
    }
    operations.add(unnamed.operationId);
    const entry = (ledger.byOperation.get(unnamed.operationId) ?? []).find(
      (e) => !accounted.has(e.id) && e.cardPublicId === unnamed.giftCardId && e.amountMinor === unnamed.deltaMinor,
    );
    if (entry === undefined) missing.push(`no entry of operation ${unnamed.operationId} of ${effect(unnamed)}`);
    else accounted.add(entry.id);
  }
  const own = [
    ...entriesOfCall(call, ledger),
    ...[...operations].flatMap((operationId) => ledger.byOperation.get(operationId) ?? []),
  ];
  const extra = [...new Map(own.filter((e) => !accounted.has(e.id)).map((e) => [e.id, e])).values()];
  return { missing, extra };
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
