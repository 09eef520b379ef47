import type { LedgerSnapshot } from './ledger-snapshot';

/**
 * One currency's figures as the checker counts them from the rows it judged, named as
 * ReconcileLedger names them (issue 17), as decimal strings: the fault workload holds the two
 * against each other. Written from the raw rows here, with none of the service's code, so a
 * reconciler that miscounts cannot agree with it by sharing the mistake.
 */
export interface CurrencyFigures {
  readonly cards: string;
  readonly entries: string;
  readonly outstanding: string;
  readonly activeHolds: string;
  readonly issued: string;
  readonly reloaded: string;
  readonly adjusted: string;
  readonly redeemed: string;
  readonly refunded: string;
  readonly reversed: string;
  readonly movedIn: string;
  readonly movedOut: string;
}

/** Rows a hand-built snapshot leaves without a currency are counted under this. */
const UNSTATED = '(none)';

export function figuresByCurrency(snapshot: LedgerSnapshot): Record<string, CurrencyFigures> {
  const counts = new Map<string, Record<keyof CurrencyFigures, bigint>>();
  const of = (currency: string | undefined) => {
    const key = currency ?? UNSTATED;
    let figures = counts.get(key);
    if (figures === undefined) {
      figures = {
        cards: 0n,
        entries: 0n,
        outstanding: 0n,
        activeHolds: 0n,
        issued: 0n,
        reloaded: 0n,
        adjusted: 0n,
        redeemed: 0n,
        refunded: 0n,
        reversed: 0n,
        movedIn: 0n,
        movedOut: 0n,
      };
      counts.set(key, figures);
    }
    return figures;
  };
  const currencyOfCard = new Map(snapshot.cards.map((card) => [card.id, card.currency]));
  for (const card of snapshot.cards) {
    const figures = of(card.currency);
    figures.cards++;
    figures.outstanding += card.balanceMinor;
  }
  for (const hold of snapshot.holds ?? []) {
    if (hold.status === 'ACTIVE') of(currencyOfCard.get(hold.cardId)).activeHolds += hold.amountMinor;
  }
  for (const entry of snapshot.entries) {
    const figures = of(entry.currency);
    figures.entries++;
    if (entry.type === 'ISSUE') figures.issued += entry.amountMinor;
    if (entry.type === 'RELOAD') figures.reloaded += entry.amountMinor;
    if (entry.type === 'ADJUSTMENT') figures.adjusted += entry.amountMinor;
    if (entry.type === 'REDEEM') figures.redeemed -= entry.amountMinor;
    if (entry.type === 'REFUND') figures.refunded += entry.amountMinor;
    if (entry.type === 'REVERSAL') figures.reversed += entry.amountMinor;
    if (entry.type === 'TRANSFER_IN' || entry.type === 'COMBINE_IN') figures.movedIn += entry.amountMinor;
    if (entry.type === 'TRANSFER_OUT' || entry.type === 'COMBINE_OUT') figures.movedOut -= entry.amountMinor;
  }
  return Object.fromEntries(
    [...counts].map(([currency, figures]) => [
      currency,
      Object.fromEntries(
        Object.entries(figures).map(([name, value]) => [name, value.toString()]),
      ) as unknown as CurrencyFigures,
    ]),
  );
}
