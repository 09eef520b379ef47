import { currentWorkDeadline } from '../call-deadline';
import { databaseUnavailable } from '../domain/errors';
import {
  BreakLocator,
  DiscrepancyKind,
  LedgerReconciliation,
  type CurrencyTotals,
  type Discrepancy,
} from '../domain/reconciliation';
import type { Clock, LedgerSnapshot, LedgerSnapshotReader, SnapshotCard } from './ports';

/**
 * Cards per page of the snapshot: three statements a page, each reading at most this many cards'
 * rows, so memory stays that of one page however many cards there are, and a million cards take a
 * thousand round trips rather than a million.
 */
export const CARDS_PER_PAGE = 1_000;
/** Entries per statement when walking one discrepant card's ledger to locate its break. */
const ENTRIES_PER_PAGE = 1_000;
/** The most discrepancies a report lists (all are counted): the figures need them all, a reader does not. */
export const MAX_LISTED_DISCREPANCIES = 1_000;

/** What a reconciliation needs; the command builds it without the rest of the service. */
export interface ReconcileContext {
  readonly ledgerSnapshots: LedgerSnapshotReader;
  readonly clock: Clock;
  readonly limits: { readonly maxBalanceMinor: bigint };
}

export interface ReconcileOptions {
  /** How many discrepancies to list in full; at most MAX_LISTED_DISCREPANCIES. */
  readonly maxListed: number;
  /** Cards per page of the snapshot; CARDS_PER_PAGE unless a test pages a small ledger in many pages. */
  readonly cardsPerPage?: number;
  /** Told after every page: the command prints it. */
  readonly onProgress?: (progress: ReconcileProgress) => void;
}

export interface ReconcileProgress {
  readonly cards: number;
  readonly discrepancies: number;
}

export interface LedgerReport {
  /** The snapshot's instant: the figures are the ledger's as of then. */
  readonly asOf: Date;
  readonly cards: number;
  readonly entries: number;
  /** One per currency, by code. */
  readonly totals: readonly CurrencyTotals[];
  /** Ledger-wide discrepancies first, then cards' in card order, up to maxListed. */
  readonly discrepancies: readonly Discrepancy[];
  /** Every discrepancy found, listed or not: zero on a sound ledger. */
  readonly discrepancyCount: number;
}

/**
 * ReconcileLedger (issue 17): every card of one consistent snapshot, a page at a time in primary
 * key order, held to the ledger's invariants (domain/reconciliation.ts), with the per-currency
 * figures finance books. A card whose balance is not its entries' sum has its entries walked to
 * name where the two parted.
 */
export async function reconcileLedger(ctx: ReconcileContext, options: ReconcileOptions): Promise<LedgerReport> {
  const maxListed = Math.min(options.maxListed, MAX_LISTED_DISCREPANCIES);
  return ctx.ledgerSnapshots.read(async (snapshot) => {
    const asOf = ctx.clock.now();
    const reconciliation = new LedgerReconciliation(ctx.limits.maxBalanceMinor, asOf);
    const onCards: Discrepancy[] = [];
    let found = 0;
    let cards = 0;
    let afterCardId = 0n;
    for (;;) {
      giveUpPastDeadline();
      const page = await snapshot.cardsAfter(afterCardId, options.cardsPerPage ?? CARDS_PER_PAGE);
      for (const card of page) {
        for (const discrepancy of reconciliation.addCard(card.card, card.entries, card.openHolds)) {
          found++;
          if (onCards.length < maxListed) onCards.push(await located(snapshot, card, discrepancy));
        }
      }
      const last = page[page.length - 1];
      if (last === undefined) break;
      // Our own bug, not the ledger's: a page that does not move past the last would loop forever.
      if (page[0] === undefined || page[0].id <= afterCardId) {
        throw new Error(`the snapshot's page after card ${afterCardId} starts at card ${page[0]?.id ?? '?'}`);
      }
      cards += page.length;
      afterCardId = last.id;
      options.onProgress?.({ cards, discrepancies: found });
    }
    const { totals, discrepancies: ledgerWide } = reconciliation.finish();
    return {
      asOf,
      cards,
      entries: totals.reduce((sum, t) => sum + t.entries, 0),
      totals,
      discrepancies: [...ledgerWide, ...onCards].slice(0, maxListed),
      discrepancyCount: found + ledgerWide.length,
    };
  });
}

/** A balance that is not its entries' sum, with the entries where they parted (BreakLocator). */
async function located(snapshot: LedgerSnapshot, card: SnapshotCard, discrepancy: Discrepancy): Promise<Discrepancy> {
  if (discrepancy.kind !== DiscrepancyKind.BALANCE_NOT_ENTRY_SUM) return discrepancy;
  const locator = new BreakLocator();
  let afterEntryId = 0n;
  for (;;) {
    const entries = await snapshot.entriesAfter(card.id, afterEntryId, ENTRIES_PER_PAGE);
    const last = entries[entries.length - 1];
    if (last === undefined || !entries.every((entry) => locator.feed(entry))) break;
    afterEntryId = last.id;
  }
  const where = locator.brokeInsideLedger
    ? `; the entries part from their recorded balances after ${locator.entries().join(' -> ')} (an entry missing or changed)`
    : '; every entry agrees with its recorded balance: the card row changed after its last entry';
  return { ...discrepancy, transactionIds: locator.entries(), detail: discrepancy.detail + where };
}

/** An RPC's caller stops waiting at its deadline; the snapshot is not read on for nobody. */
function giveUpPastDeadline(): void {
  const deadline = currentWorkDeadline();
  if (deadline !== null && Date.now() >= deadline) {
    throw databaseUnavailable('the reconciliation did not finish before the deadline; use npm run reconcile');
  }
}
