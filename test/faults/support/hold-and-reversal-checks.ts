import type { EntryRow, LedgerSnapshot } from './ledger-snapshot';
import type { CallRecord } from './workload';

/** Records one finding of a kind the checker's invariants are judged by. */
export type AddFinding = (kind: 'reversal' | 'late-original' | 'hold' | 'available', line: string) => void;

/** A balance change the clients learned of through a reversal's answer, not the call's own. */
export interface LearnedEffect {
  readonly giftCardId: string;
  readonly deltaMinor: bigint;
}

const sum = (values: readonly bigint[]): bigint => values.reduce((a, b) => a + b, 0n);

/**
 * Reversals, held against the ledger:
 * - each REVERSAL undoes one entry, once, by what the rules allow: a reload or an issue exactly, a
 *   redemption (or capture) by what its refunds had not given back;
 * - a reversal that found nothing for its key means no entry with that key exists, nor any
 *   acknowledged call with it (else: applied and kept); one that found the call leaves none of the
 *   call's entries standing;
 * - a call refused as reversed was either not applied, or applied and undone by a REVERSAL an
 *   acknowledged reversal reported: then its entries count, as the reversal's answer told of them;
 * - a call sent after its key was reversed is refused, and nothing of it is in the ledger.
 *
 * `accounted` holds the entries acknowledged calls answered for; entries this rule accounts for are
 * added. Returns the effects of calls applied and then reversed that no answer of their own told of.
 */
export function judgeReversals(
  snapshot: LedgerSnapshot,
  records: readonly CallRecord[],
  byRef: ReadonlyMap<string | null, readonly EntryRow[]>,
  accounted: Set<bigint>,
  add: AddFinding,
): LearnedEffect[] {
  const { entries } = snapshot;
  const byId = new Map(entries.map((e) => [e.id, e]));
  const undoneBy = new Map<bigint, EntryRow[]>();
  for (const entry of entries) {
    if (entry.type !== 'REVERSAL') continue;
    const undone = entry.reversesEntryId ?? null;
    if (undone === null) {
      add('reversal', `REVERSAL ${entry.publicId} names no entry it undoes`);
      continue;
    }
    undoneBy.set(undone, [...(undoneBy.get(undone) ?? []), entry]);
  }
  const refundsOf = (id: bigint): bigint =>
    sum(entries.filter((e) => e.type === 'REFUND' && e.refundOfEntryId === id).map((e) => e.amountMinor));
  for (const [undoneId, reversals] of undoneBy) {
    const undone = byId.get(undoneId);
    if (undone === undefined) {
      add('reversal', `REVERSAL ${reversals[0]?.publicId ?? ''} undoes an entry no client's call wrote`);
      continue;
    }
    if (reversals.length > 1)
      add('reversal', `entry ${undone.publicId} (${undone.type}) undone ${reversals.length} times`);
    const expected = undone.type === 'REDEEM' ? -undone.amountMinor - refundsOf(undone.id) : -undone.amountMinor;
    for (const reversal of reversals.filter((r) => r.amountMinor !== expected)) {
      add(
        'reversal',
        `REVERSAL ${reversal.publicId} of ${undone.type} ${undone.amountMinor} moved ${reversal.amountMinor}, not ${expected}`,
      );
    }
  }

  const applied = (ref: string | null): readonly EntryRow[] =>
    ref === null ? [] : (byRef.get(ref) ?? []).filter((e) => e.type !== 'REVERSAL');
  const acknowledgedKeys = new Set(
    records.filter((r) => r.outcome === 'acknowledged' && r.reversal === undefined).map((r) => r.key),
  );
  for (const call of records) {
    const note = call.reversal;
    if (note === undefined) continue;
    const standing = applied(note.key).filter((e) => !undoneBy.has(e.id));
    if (!note.found && (applied(note.key).length > 0 || acknowledgedKeys.has(note.key))) {
      add('reversal', `${call.operation} ${note.key}: found nothing to reverse, yet the call was applied and kept`);
    } else if (note.found) {
      for (const entry of standing)
        add('reversal', `${call.operation} ${note.key}: reversed, yet entry ${entry.publicId} stands`);
    }
  }

  const learned: LearnedEffect[] = [];
  for (const call of records) {
    if (call.afterReversal === true) {
      if (call.outcome !== 'refused' || call.refusal?.reason !== 'OPERATION_REVERSED') {
        add(
          'late-original',
          `${call.operation} ${call.key ?? ''} ended ${call.outcome} though its key was reversed first`,
        );
      }
      for (const entry of applied(call.externalRef)) {
        accounted.add(entry.id);
        add(
          'late-original',
          `${call.operation} ${call.key ?? ''} was applied after its reversal, as entry ${entry.publicId}`,
        );
      }
      continue;
    }
    if (call.outcome !== 'refused' || call.refusal?.reason !== 'OPERATION_REVERSED') continue;
    for (const entry of applied(call.externalRef)) {
      accounted.add(entry.id);
      const reversals = undoneBy.get(entry.id) ?? [];
      if (reversals.length === 0 || !reversals.every((r) => accounted.has(r.id))) {
        add('reversal', `${call.operation} ${call.key ?? ''}: refused as reversed, yet entry ${entry.publicId} stands`);
        continue;
      }
      learned.push({ giftCardId: entry.cardPublicId, deltaMinor: entry.amountMinor });
    }
  }
  return learned;
}

/**
 * Holds, held against the ledger: a hold is captured at most once, by one REDEEM entry of what it
 * records as captured and never more than it held, and only a captured hold has one; every card's
 * hold tally is its open holds and within its balance, and no entry left a negative available
 * balance.
 */
export function judgeHolds(snapshot: LedgerSnapshot, add: AddFinding): void {
  const { entries, cards, holds = [] } = snapshot;
  const captures = new Map<bigint, EntryRow[]>();
  for (const entry of entries) {
    const holdId = entry.holdId ?? null;
    if (holdId !== null) captures.set(holdId, [...(captures.get(holdId) ?? []), entry]);
  }
  for (const hold of holds) {
    const taken = captures.get(hold.id) ?? [];
    const total = -sum(taken.map((e) => e.amountMinor));
    if (taken.length > 1) add('hold', `hold ${hold.publicId} captured ${taken.length} times`);
    if (total > hold.amountMinor)
      add('hold', `hold ${hold.publicId} captured ${total}, more than the ${hold.amountMinor} it held`);
    if (hold.status === 'CAPTURED' ? taken.length === 0 || total !== hold.capturedMinor : taken.length > 0) {
      add(
        'hold',
        `hold ${hold.publicId} is ${hold.status} (captured ${hold.capturedMinor}) but its entries take ${total}`,
      );
    }
  }
  for (const card of cards) {
    const open = sum(holds.filter((h) => h.cardId === card.id && h.status === 'ACTIVE').map((h) => h.amountMinor));
    const held = card.heldMinor ?? 0n;
    if (held !== open) add('available', `card ${card.publicId}: hold tally ${held}, but its open holds hold ${open}`);
    if (held > card.balanceMinor) {
      add('available', `card ${card.publicId}: holds of ${held} on a balance of ${card.balanceMinor}`);
    }
  }
  for (const entry of entries) {
    const available = entry.availableAfterMinor ?? null;
    if (available !== null && available < 0n) add('available', `entry ${entry.publicId} left ${available} available`);
  }
}
