import { HoldEventType } from './hold-event';
import { EntryType } from './ledger-entry';
import type { Minor } from './money';

/**
 * What one line of a card's history is: a ledger entry (a REDEEM that captured a hold reads as
 * HOLD_CAPTURED) or a hold being placed, voided or expiring.
 */
export const ActivityType = {
  ...EntryType,
  HOLD_CAPTURED: 'HOLD_CAPTURED',
  HOLD_PLACED: 'HOLD_PLACED',
  HOLD_VOIDED: 'HOLD_VOIDED',
  HOLD_EXPIRED: 'HOLD_EXPIRED',
} as const;
export type ActivityType = (typeof ActivityType)[keyof typeof ActivityType];

const HOLD_EVENT_ACTIVITY: Readonly<Record<HoldEventType, ActivityType>> = {
  [HoldEventType.PLACED]: ActivityType.HOLD_PLACED,
  [HoldEventType.VOIDED]: ActivityType.HOLD_VOIDED,
  [HoldEventType.EXPIRED]: ActivityType.HOLD_EXPIRED,
};

export const holdEventActivity = (type: HoldEventType): ActivityType => HOLD_EVENT_ACTIVITY[type];

/** The hold event an activity type lists, or null for a ledger entry's type. */
export function holdEventOf(type: ActivityType): HoldEventType | null {
  const found = Object.entries(HOLD_EVENT_ACTIVITY).find(([, activity]) => activity === type);
  return found === undefined ? null : (found[0] as HoldEventType);
}

/**
 * Where an activity sits in its card's history. Everything on a card happens under its row lock,
 * so its ledger entries' ids run in the order they happened, and each hold event records the
 * card's latest entry when it happened (afterEntryId): the event comes after that entry and
 * before the next. Oldest first, an entry is (id, 0, 0) and an event (afterEntryId, 1, eventId).
 */
export interface ActivityPosition {
  readonly entryId: bigint;
  /** 0 for the ledger entry itself, 1 for a hold event after it. */
  readonly step: 0 | 1;
  /** The hold event's own id; 0 for a ledger entry. */
  readonly eventId: bigint;
}

export function comparePositions(a: ActivityPosition, b: ActivityPosition): number {
  if (a.entryId !== b.entryId) return a.entryId < b.entryId ? -1 : 1;
  if (a.step !== b.step) return a.step - b.step;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** One line of a card's history. */
export interface CardActivity {
  /** The ledger entry's public id (the wire's transactionId), or the hold event's. */
  readonly publicId: string;
  readonly type: ActivityType;
  /**
   * Signed. For a ledger entry, the change to the balance; for a hold placed, voided or expired,
   * the held amount by what it did to the available balance (the balance stays).
   */
  readonly amountMinor: Minor;
  readonly balanceAfterMinor: Minor;
  readonly availableAfterMinor: Minor;
  readonly currency: string;
  readonly occurredAt: Date;
  /** The caller's reference: an order id, a funding purchase, a cancellation. */
  readonly reference: string | null;
  /** The other card of a transfer or a combine. */
  readonly counterpartGiftCardId: string | null;
  /** The redemption a refund gives back, or the entry a reversal undoes. */
  readonly relatedTransactionId: string | null;
  /** The hold an activity is about, for hold events and captures. */
  readonly holdId: string | null;
  readonly position: ActivityPosition;
}

/**
 * The newest `limit` activities of two streams each already newest first (the card's ledger
 * entries and its hold events, each read from its own index), as one history.
 */
export function newestFirst(
  entries: readonly CardActivity[],
  events: readonly CardActivity[],
  limit: number,
): CardActivity[] {
  const merged: CardActivity[] = [];
  let [i, j] = [0, 0];
  while (merged.length < limit) {
    const entry = entries[i];
    const event = events[j];
    if (entry !== undefined && (event === undefined || comparePositions(entry.position, event.position) > 0)) {
      merged.push(entry);
      i++;
    } else if (event !== undefined) {
      merged.push(event);
      j++;
    } else {
      break;
    }
  }
  return merged;
}

/** A ledger entry of a move between cards, as the pairing of counterparts reads it. */
export interface MoveEntry {
  readonly entryId: bigint;
  readonly operationId: string;
  readonly type: EntryType;
  readonly cardPublicId: string;
}

const MOVE_PAIRS: ReadonlyArray<readonly [EntryType, EntryType]> = [
  [EntryType.TRANSFER_OUT, EntryType.TRANSFER_IN],
  [EntryType.COMBINE_OUT, EntryType.COMBINE_IN],
];

/**
 * The other card of each move entry, by entry id. One operation writes its debits and credits in
 * pairs, each debit before its credit (a combine: out, in, out, in): the k-th debit of an
 * operation pairs with its k-th credit.
 */
export function counterparts(moves: readonly MoveEntry[]): Map<bigint, string> {
  const byEntry = new Map<bigint, string>();
  const sorted = [...moves].sort((a, b) => (a.entryId < b.entryId ? -1 : a.entryId > b.entryId ? 1 : 0));
  for (const [debit, credit] of MOVE_PAIRS) {
    const operations = new Set(sorted.map((m) => m.operationId));
    for (const operationId of operations) {
      const debits = sorted.filter((m) => m.operationId === operationId && m.type === debit);
      const credits = sorted.filter((m) => m.operationId === operationId && m.type === credit);
      debits.forEach((out, k) => {
        const into = credits[k];
        if (into === undefined) return;
        byEntry.set(out.entryId, into.cardPublicId);
        byEntry.set(into.entryId, out.cardPublicId);
      });
    }
  }
  return byEntry;
}
