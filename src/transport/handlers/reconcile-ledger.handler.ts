import {
  DiscrepancyKind as ProtoDiscrepancyKind,
  type CurrencyTotals as ProtoCurrencyTotals,
  type LedgerDiscrepancy,
  type ReconcileLedgerRequest,
  type ReconcileLedgerResponse,
} from '../../../gen/giftcard/v1/reconciliation';
import { reconcileLedger, type ReconcileContext } from '../../application/reconcile-ledger';
import { DiscrepancyKind, type CurrencyTotals, type Discrepancy } from '../../domain/reconciliation';
import { RequestFields } from '../validation';

/** A report lists this many discrepancies unless asked for another number. */
const DEFAULT_LISTED_DISCREPANCIES = 100;
const MAX_LISTED_DISCREPANCIES = 1_000;

const KIND_TO_PROTO: Readonly<Record<DiscrepancyKind, ProtoDiscrepancyKind>> = {
  [DiscrepancyKind.BALANCE_NOT_ENTRY_SUM]: ProtoDiscrepancyKind.DISCREPANCY_KIND_BALANCE_NOT_ENTRY_SUM,
  [DiscrepancyKind.NEGATIVE_BALANCE]: ProtoDiscrepancyKind.DISCREPANCY_KIND_NEGATIVE_BALANCE,
  [DiscrepancyKind.BALANCE_ABOVE_MAXIMUM]: ProtoDiscrepancyKind.DISCREPANCY_KIND_BALANCE_ABOVE_MAXIMUM,
  [DiscrepancyKind.HOLDS_EXCEED_BALANCE]: ProtoDiscrepancyKind.DISCREPANCY_KIND_HOLDS_EXCEED_BALANCE,
  [DiscrepancyKind.HOLD_TALLY_MISMATCH]: ProtoDiscrepancyKind.DISCREPANCY_KIND_HOLD_TALLY_MISMATCH,
  [DiscrepancyKind.ENTRY_CURRENCY_MISMATCH]: ProtoDiscrepancyKind.DISCREPANCY_KIND_ENTRY_CURRENCY_MISMATCH,
  [DiscrepancyKind.UNKNOWN_ENTRY_TYPE]: ProtoDiscrepancyKind.DISCREPANCY_KIND_UNKNOWN_ENTRY_TYPE,
  [DiscrepancyKind.UNKNOWN_CARD_STATUS]: ProtoDiscrepancyKind.DISCREPANCY_KIND_UNKNOWN_CARD_STATUS,
  [DiscrepancyKind.LIABILITY_NOT_EXPLAINED]: ProtoDiscrepancyKind.DISCREPANCY_KIND_LIABILITY_NOT_EXPLAINED,
  [DiscrepancyKind.MOVES_NOT_NET_ZERO]: ProtoDiscrepancyKind.DISCREPANCY_KIND_MOVES_NOT_NET_ZERO,
};

const discrepancyToProto = (d: Discrepancy): LedgerDiscrepancy => ({
  kind: KIND_TO_PROTO[d.kind],
  giftCardId: d.giftCardId ?? '',
  currency: d.currency,
  expectedAmount: d.expectedMinor,
  actualAmount: d.actualMinor,
  difference: d.actualMinor - d.expectedMinor,
  transactionIds: [...d.transactionIds],
  description: d.detail,
});

const totalsToProto = (t: CurrencyTotals): ProtoCurrencyTotals => ({
  currency: t.currency,
  cardCount: BigInt(t.cards),
  entryCount: BigInt(t.entries),
  outstandingAmount: t.outstandingMinor,
  activeHoldsAmount: t.activeHoldsMinor,
  expiredAmount: t.expiredMinor,
  deactivatedAmount: t.deactivatedMinor,
  blockedAmount: t.blockedMinor,
  issuedAmount: t.flows.issued,
  reloadedAmount: t.flows.reloaded,
  adjustedAmount: t.flows.adjusted,
  redeemedAmount: t.flows.redeemed,
  refundedAmount: t.flows.refunded,
  reversedAmount: t.flows.reversed,
  movedInAmount: t.flows.movedIn,
  movedOutAmount: t.flows.movedOut,
});

export const reconcileLedgerHandler =
  (app: ReconcileContext) =>
  async (request: ReconcileLedgerRequest): Promise<ReconcileLedgerResponse> => {
    const fields = new RequestFields();
    if (request.maxDiscrepancies < 0 || request.maxDiscrepancies > MAX_LISTED_DISCREPANCIES)
      fields.violation('maxDiscrepancies', `must be from 0 to ${MAX_LISTED_DISCREPANCIES}`);
    fields.check();
    const report = await reconcileLedger(app, {
      maxListed: request.maxDiscrepancies === 0 ? DEFAULT_LISTED_DISCREPANCIES : request.maxDiscrepancies,
    });
    return {
      snapshotTime: report.asOf,
      cardCount: BigInt(report.cards),
      entryCount: BigInt(report.entries),
      currencyTotals: report.totals.map(totalsToProto),
      discrepancies: report.discrepancies.map(discrepancyToProto),
      discrepancyCount: BigInt(report.discrepancyCount),
    };
  };
