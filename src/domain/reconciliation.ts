import { CardStatus } from './gift-card';
import { EntryType } from './ledger-entry';
import type { Minor } from './money';

/**
 * The figures finance reads the ledger by. Money enters the cards by issue, reload and refund,
 * leaves them by redemption, is corrected by adjustments and reversals; moves between cards
 * (transfers, combines) neither create nor destroy any, so they are a figure of their own that
 * must net to zero.
 */
export const LedgerFlow = {
  ISSUED: 'issued',
  RELOADED: 'reloaded',
  ADJUSTED: 'adjusted',
  REDEEMED: 'redeemed',
  REFUNDED: 'refunded',
  REVERSED: 'reversed',
  MOVED_IN: 'movedIn',
  MOVED_OUT: 'movedOut',
} as const;
export type LedgerFlow = (typeof LedgerFlow)[keyof typeof LedgerFlow];

/**
 * Each entry kind, the figure it counts toward, and the sign that turns its signed amounts into
 * that figure: a redemption's entries are negative, finance reads "redeemed" as a positive amount.
 * Keyed by every EntryType, so a new kind does not compile until it has its line here.
 */
export const FLOW_OF_ENTRY: Readonly<Record<EntryType, { readonly flow: LedgerFlow; readonly sign: 1n | -1n }>> = {
  [EntryType.ISSUE]: { flow: LedgerFlow.ISSUED, sign: 1n },
  [EntryType.RELOAD]: { flow: LedgerFlow.RELOADED, sign: 1n },
  [EntryType.REDEEM]: { flow: LedgerFlow.REDEEMED, sign: -1n },
  [EntryType.REFUND]: { flow: LedgerFlow.REFUNDED, sign: 1n },
  [EntryType.REVERSAL]: { flow: LedgerFlow.REVERSED, sign: 1n },
  // An operator's correction goes either way: its signed amount is the adjusted figure as it is.
  [EntryType.ADJUSTMENT]: { flow: LedgerFlow.ADJUSTED, sign: 1n },
  [EntryType.TRANSFER_IN]: { flow: LedgerFlow.MOVED_IN, sign: 1n },
  [EntryType.COMBINE_IN]: { flow: LedgerFlow.MOVED_IN, sign: 1n },
  [EntryType.TRANSFER_OUT]: { flow: LedgerFlow.MOVED_OUT, sign: -1n },
  [EntryType.COMBINE_OUT]: { flow: LedgerFlow.MOVED_OUT, sign: -1n },
};

/**
 * Where a card's balance sits for accounting: all of it is liability; a card that can no longer be
 * spent (closed, combined, blocked, or past its expiry) is also a breakage candidate. Keyed by every
 * CardStatus for the same reason as FLOW_OF_ENTRY.
 */
export type StandingOfStatus = 'spendable' | 'deactivated' | 'blocked';
export const STANDING_OF_STATUS: Readonly<Record<CardStatus, StandingOfStatus>> = {
  [CardStatus.ACTIVE]: 'spendable',
  [CardStatus.DEACTIVATED]: 'deactivated',
  // Frozen by an operator: still owed, but not spendable until unblocked.
  [CardStatus.BLOCKED]: 'blocked',
  // A combined card handed its whole balance on; any left is as stranded as on a closed card.
  [CardStatus.COMBINED]: 'deactivated',
};

export const DiscrepancyKind = {
  BALANCE_NOT_ENTRY_SUM: 'BALANCE_NOT_ENTRY_SUM',
  NEGATIVE_BALANCE: 'NEGATIVE_BALANCE',
  BALANCE_ABOVE_MAXIMUM: 'BALANCE_ABOVE_MAXIMUM',
  HOLDS_EXCEED_BALANCE: 'HOLDS_EXCEED_BALANCE',
  HOLD_TALLY_MISMATCH: 'HOLD_TALLY_MISMATCH',
  ENTRY_CURRENCY_MISMATCH: 'ENTRY_CURRENCY_MISMATCH',
  UNKNOWN_ENTRY_TYPE: 'UNKNOWN_ENTRY_TYPE',
  UNKNOWN_CARD_STATUS: 'UNKNOWN_CARD_STATUS',
  LIABILITY_NOT_EXPLAINED: 'LIABILITY_NOT_EXPLAINED',
  MOVES_NOT_NET_ZERO: 'MOVES_NOT_NET_ZERO',
} as const;
export type DiscrepancyKind = (typeof DiscrepancyKind)[keyof typeof DiscrepancyKind];

/** One broken invariant: on a card (its public id), or across one currency's ledger (no card). */
export interface Discrepancy {
  readonly kind: DiscrepancyKind;
  /** Null for a figure across the whole ledger of the currency. */
  readonly giftCardId: string | null;
  readonly currency: string;
  /** What the rule says the figure should be (the entries' sum, the maximum, the open holds...). */
  readonly expectedMinor: Minor;
  /** What is stored. */
  readonly actualMinor: Minor;
  /** Public ids of the ledger entries that locate it, when a card's entries do (see locateBreak). */
  readonly transactionIds: readonly string[];
  readonly detail: string;
}

/** A card row as the snapshot reads it. */
export interface CardFigures {
  readonly publicId: string;
  readonly currency: string;
  readonly balanceMinor: Minor;
  /** The card's tally of its open holds. */
  readonly heldMinor: Minor;
  readonly status: string;
  readonly expiresAt: Date | null;
}

/** A card's entries of one kind and currency, summed. */
export interface EntrySum {
  readonly type: string;
  readonly currency: string;
  readonly amountMinor: Minor;
  readonly count: number;
}

/** A card's holds still ACTIVE in storage, summed. */
export interface OpenHoldSum {
  readonly amountMinor: Minor;
  readonly count: number;
}

export const NO_OPEN_HOLDS: OpenHoldSum = { amountMinor: 0n, count: 0 };

/** One currency's figures, all in minor units. */
export interface CurrencyTotals {
  readonly currency: string;
  readonly cards: number;
  readonly entries: number;
  /** The sum of balances: what the cards' holders may still spend, the liability. */
  readonly outstandingMinor: Minor;
  /** Promised to authorizations not yet captured, voided or expired; part of the outstanding. */
  readonly activeHoldsMinor: Minor;
  /** Breakage candidates, each part of the outstanding. */
  readonly expiredMinor: Minor;
  readonly deactivatedMinor: Minor;
  readonly blockedMinor: Minor;
  /** Each flow's figure, signed as FLOW_OF_ENTRY says (redeemed positive). */
  readonly flows: Readonly<Record<LedgerFlow, Minor>>;
}

const isEntryType = (type: string): type is EntryType => Object.hasOwn(FLOW_OF_ENTRY, type);
const isCardStatus = (status: string): status is CardStatus => Object.hasOwn(STANDING_OF_STATUS, status);

/**
 * What the ledger's flows say the outstanding balance is: issued + reloaded + adjusted - redeemed
 * + refunded + reversed. Moves between cards are left out; they are checked to net zero instead.
 */
export function liabilityFromFlows(flows: Readonly<Record<LedgerFlow, Minor>>): Minor {
  return flows.issued + flows.reloaded + flows.adjusted - flows.redeemed + flows.refunded + flows.reversed;
}

const zeroFlows = (): Record<LedgerFlow, Minor> => ({
  issued: 0n,
  reloaded: 0n,
  adjusted: 0n,
  redeemed: 0n,
  refunded: 0n,
  reversed: 0n,
  movedIn: 0n,
  movedOut: 0n,
});

interface MutableTotals {
  cards: number;
  entries: number;
  outstandingMinor: Minor;
  activeHoldsMinor: Minor;
  expiredMinor: Minor;
  deactivatedMinor: Minor;
  blockedMinor: Minor;
  flows: Record<LedgerFlow, Minor>;
}

/**
 * The ledger's invariants, checked one card at a time and summed per currency (issue 17): every
 * balance is the sum of its entries, within zero and the maximum, and covers its open holds, which
 * equal the card's tally of them; per currency, the balances equal what the flows explain and moves
 * between cards net to zero. Holds only sums and the discrepancies, so a ledger of any size is
 * checked in the memory of its currencies.
 */
export class LedgerReconciliation {
  private readonly totals = new Map<string, MutableTotals>();

  constructor(
    private readonly maxBalanceMinor: Minor,
    /** The snapshot's instant: a card whose expiry is at or before it is expired. */
    private readonly asOf: Date,
  ) {}

  /** Adds one card; returns what is wrong with it, empty when nothing is. */
  addCard(card: CardFigures, entries: readonly EntrySum[], openHolds: OpenHoldSum): Discrepancy[] {
    const found: Discrepancy[] = [];
    const onCard = (
      kind: DiscrepancyKind,
      expectedMinor: Minor,
      actualMinor: Minor,
      detail: string,
      currency = card.currency,
    ): void => {
      found.push({ kind, giftCardId: card.publicId, currency, expectedMinor, actualMinor, transactionIds: [], detail });
    };
    const totals = this.totalsOf(card.currency);
    totals.cards++;
    totals.outstandingMinor += card.balanceMinor;
    totals.activeHoldsMinor += openHolds.amountMinor;
    this.addStanding(card, totals, onCard);

    let entrySum = 0n;
    for (const sum of entries) {
      entrySum += sum.amountMinor;
      const entryTotals = this.totalsOf(sum.currency);
      entryTotals.entries += sum.count;
      if (sum.currency !== card.currency) {
        onCard(
          DiscrepancyKind.ENTRY_CURRENCY_MISMATCH,
          0n,
          sum.amountMinor,
          `${sum.count} ${sum.type} entries in ${sum.currency} on a ${card.currency} card`,
          sum.currency,
        );
      }
      if (!isEntryType(sum.type)) {
        onCard(
          DiscrepancyKind.UNKNOWN_ENTRY_TYPE,
          0n,
          sum.amountMinor,
          `${sum.count} entries of kind ${sum.type}, which this reconciler does not know`,
        );
        continue;
      }
      const { flow, sign } = FLOW_OF_ENTRY[sum.type];
      entryTotals.flows[flow] += sign * sum.amountMinor;
    }

    if (card.balanceMinor !== entrySum) {
      onCard(
        DiscrepancyKind.BALANCE_NOT_ENTRY_SUM,
        entrySum,
        card.balanceMinor,
        `balance ${card.balanceMinor}, its entries sum to ${entrySum}: off by ${card.balanceMinor - entrySum}`,
      );
    }
    if (card.balanceMinor < 0n) onCard(DiscrepancyKind.NEGATIVE_BALANCE, 0n, card.balanceMinor, 'balance below zero');
    if (card.balanceMinor > this.maxBalanceMinor) {
      onCard(
        DiscrepancyKind.BALANCE_ABOVE_MAXIMUM,
        this.maxBalanceMinor,
        card.balanceMinor,
        `balance above the maximum of ${this.maxBalanceMinor}`,
      );
    }
    if (card.heldMinor !== openHolds.amountMinor) {
      onCard(
        DiscrepancyKind.HOLD_TALLY_MISMATCH,
        openHolds.amountMinor,
        card.heldMinor,
        `the card's hold tally is ${card.heldMinor}, its ${openHolds.count} open holds sum to ${openHolds.amountMinor}`,
      );
    }
    const held = card.heldMinor > openHolds.amountMinor ? card.heldMinor : openHolds.amountMinor;
    // A negative balance is its own finding; no holds cannot exceed it.
    if (held > 0n && held > card.balanceMinor) {
      onCard(
        DiscrepancyKind.HOLDS_EXCEED_BALANCE,
        card.balanceMinor,
        held,
        `holds of ${held} exceed the balance of ${card.balanceMinor}`,
      );
    }
    return found;
  }

  /** The per-currency figures, and what is wrong across each currency's ledger. */
  finish(): { totals: CurrencyTotals[]; discrepancies: Discrepancy[] } {
    const discrepancies: Discrepancy[] = [];
    const totals = [...this.totals.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([currency, t]): CurrencyTotals => ({ currency, ...t, flows: { ...t.flows } }));
    for (const t of totals) {
      const explained = liabilityFromFlows(t.flows);
      if (explained !== t.outstandingMinor) {
        discrepancies.push({
          kind: DiscrepancyKind.LIABILITY_NOT_EXPLAINED,
          giftCardId: null,
          currency: t.currency,
          expectedMinor: explained,
          actualMinor: t.outstandingMinor,
          transactionIds: [],
          detail:
            `balances sum to ${t.outstandingMinor}, issued + reloaded + adjusted - redeemed + refunded + reversed ` +
            `is ${explained}: off by ${t.outstandingMinor - explained}`,
        });
      }
      if (t.flows.movedIn !== t.flows.movedOut) {
        discrepancies.push({
          kind: DiscrepancyKind.MOVES_NOT_NET_ZERO,
          giftCardId: null,
          currency: t.currency,
          expectedMinor: t.flows.movedOut,
          actualMinor: t.flows.movedIn,
          transactionIds: [],
          detail: `moves between cards put in ${t.flows.movedIn} but took out ${t.flows.movedOut}`,
        });
      }
    }
    return { totals, discrepancies };
  }

  private addStanding(
    card: CardFigures,
    totals: MutableTotals,
    onCard: (kind: DiscrepancyKind, expected: Minor, actual: Minor, detail: string) => void,
  ): void {
    if (!isCardStatus(card.status)) {
      onCard(DiscrepancyKind.UNKNOWN_CARD_STATUS, 0n, card.balanceMinor, `status ${card.status} is not known here`);
      return;
    }
    const standing = STANDING_OF_STATUS[card.status];
    if (standing === 'deactivated') totals.deactivatedMinor += card.balanceMinor;
    else if (standing === 'blocked') totals.blockedMinor += card.balanceMinor;
    else if (card.expiresAt !== null && card.expiresAt.getTime() <= this.asOf.getTime())
      totals.expiredMinor += card.balanceMinor;
  }

  private totalsOf(currency: string): MutableTotals {
    let totals = this.totals.get(currency);
    if (totals === undefined) {
      totals = {
        cards: 0,
        entries: 0,
        outstandingMinor: 0n,
        activeHoldsMinor: 0n,
        expiredMinor: 0n,
        deactivatedMinor: 0n,
        blockedMinor: 0n,
        flows: zeroFlows(),
      };
      this.totals.set(currency, totals);
    }
    return totals;
  }
}

/** A ledger entry as locateBreak reads it, in the order it was written (ascending id). */
export interface EntryStep {
  readonly publicId: string;
  readonly amountMinor: Minor;
  readonly balanceAfterMinor: Minor;
}

/**
 * Walks a card's entries in order, keeping the running sum, to name the entries where its
 * balance stopped being the sum of its entries: each entry records the balance after it, so the
 * first one whose recorded balance is not the running sum follows a change outside the ledger (an
 * entry deleted, or a balance written without one) and the entry before it is the last good one.
 * When every entry agrees, the change came after the last entry: the card's row was written alone.
 */
export class BreakLocator {
  private runningMinor = 0n;
  private previous: string | null = null;
  private found: string[] | null = null;

  /** Returns false once the break is found: the rest of the entries need not be read. */
  feed(entry: EntryStep): boolean {
    if (this.found !== null) return false;
    this.runningMinor += entry.amountMinor;
    if (entry.balanceAfterMinor !== this.runningMinor) {
      this.found = this.previous === null ? [entry.publicId] : [this.previous, entry.publicId];
      return false;
    }
    this.previous = entry.publicId;
    return true;
  }

  /** The entries around the break; the last entry when the card's row changed after it; none without entries. */
  entries(): readonly string[] {
    return this.found ?? (this.previous === null ? [] : [this.previous]);
  }

  /** Whether an entry itself disagrees with the running sum (a gap in the ledger), not only the card's row. */
  get brokeInsideLedger(): boolean {
    return this.found !== null;
  }
}
