import { judgeLedger, type CheckReport } from './support/checker';
import type { CardRow, EntryRow } from './support/ledger-snapshot';
import type { BalanceEffect } from './support/planned-call';
import type { CallOutcome, CallRecord } from './support/workload';

/**
 * The fault workload's checker judged on hand-made ledgers: it must pass an honest one and name
 * each kind of lie. The workload spec only ever shows it honest ledgers (or none of these lies).
 */

interface Posting {
  readonly id?: string;
  readonly card: string;
  readonly operation: string;
  readonly type: string;
  readonly amount: bigint;
  readonly ref?: string;
}

/** Each call's key, stored with the operation it ran: what idempotency_record holds after an honest run. */
const CLAIMS: Readonly<Record<string, string>> = {
  'key-f': 'op-f',
  'key-s1': 'op-s1',
  'key-s2': 'op-s2',
  'key-t': 'op-t',
  'key-c': 'op-c',
};

/**
 * Entries in the order given, and the keys stored; every card the entries touch holds exactly the
 * sum of its entries.
 */
function snapshot(postings: readonly Posting[], claims: Readonly<Record<string, string>> = CLAIMS) {
  const cardIds = new Map<string, bigint>();
  const cardId = (publicId: string): bigint => {
    const id = cardIds.get(publicId) ?? BigInt(cardIds.size + 1);
    cardIds.set(publicId, id);
    return id;
  };
  const entries: EntryRow[] = postings.map((p, index) => ({
    id: BigInt(index + 1),
    publicId: p.id ?? `entry-${index + 1}`,
    cardPublicId: p.card,
    cardId: cardId(p.card),
    operationId: p.operation,
    type: p.type,
    amountMinor: p.amount,
    externalRef: p.ref ?? null,
  }));
  const cards: CardRow[] = [...cardIds].map(([publicId, id]) => ({
    id,
    publicId,
    balanceMinor: entries.filter((e) => e.cardId === id).reduce((sum, e) => sum + e.amountMinor, 0n),
  }));
  return { since: { cardId: 0n, entryId: 0n }, entries, cards, claims: new Map(Object.entries(claims)) };
}

function call(
  operation: string,
  outcome: CallOutcome,
  effects: readonly BalanceEffect[],
  names: { readonly key: string | null; readonly externalRef?: string },
): CallRecord {
  return { operation, key: names.key, externalRef: names.externalRef ?? null, outcome, attempts: 1, effects };
}

/** The fixed card F funded by a purchase, two spares funded the same way. */
const ISSUES: Posting[] = [
  { id: 'issue-f', card: 'F', operation: 'op-f', type: 'ISSUE', amount: 100n, ref: 'buy-f' },
  { id: 'issue-s1', card: 'S1', operation: 'op-s1', type: 'ISSUE', amount: 20n, ref: 'buy-s1' },
  { id: 'issue-s2', card: 'S2', operation: 'op-s2', type: 'ISSUE', amount: 20n, ref: 'buy-s2' },
];
const ISSUE_CALLS = (['f', 'S1', 'S2'] as const).map((card) => {
  const name = card.toLowerCase();
  return call(
    'IssueVirtualCard',
    'acknowledged',
    [{ giftCardId: card.toUpperCase(), deltaMinor: card === 'f' ? 100n : 20n, transactionId: `issue-${name}` }],
    { key: `key-${name}`, externalRef: `buy-${name}` },
  );
});

/** 30 from F to a new card N: the answer names both entries. */
const TRANSFER: Posting[] = [
  { id: 'out-1', card: 'F', operation: 'op-t', type: 'TRANSFER_OUT', amount: -30n },
  { id: 'in-1', card: 'N', operation: 'op-t', type: 'TRANSFER_IN', amount: 30n },
];
const TRANSFER_EFFECTS: BalanceEffect[] = [
  { giftCardId: 'F', deltaMinor: -30n, transactionId: 'out-1' },
  { giftCardId: 'N', deltaMinor: 30n, transactionId: 'in-1' },
];
const TRANSFER_CALL = call('BalanceTransfer', 'acknowledged', TRANSFER_EFFECTS, { key: 'key-t' });

/** S1 and S2 (the same amount each) into F: the answer names the debits, and the operation. */
const COMBINE_OUTS: Posting[] = [
  { id: 'c-out-1', card: 'S1', operation: 'op-c', type: 'COMBINE_OUT', amount: -20n },
  { id: 'c-out-2', card: 'S2', operation: 'op-c', type: 'COMBINE_OUT', amount: -20n },
];
const COMBINE_IN: Posting = { card: 'F', operation: 'op-c', type: 'COMBINE_IN', amount: 20n };
const COMBINE_CALL = call(
  'CombineCards',
  'acknowledged',
  [
    { giftCardId: 'S1', deltaMinor: -20n, transactionId: 'c-out-1' },
    { giftCardId: 'F', deltaMinor: 20n, transactionId: null, operationId: 'op-c' },
    { giftCardId: 'S2', deltaMinor: -20n, transactionId: 'c-out-2' },
    { giftCardId: 'F', deltaMinor: 20n, transactionId: null, operationId: 'op-c' },
  ],
  { key: 'key-c' },
);

const failing = (report: CheckReport): string[] => report.invariants.filter((i) => !i.holds).map((i) => i.name);

describe('The fault workload checker', () => {
  it('passes a ledger holding exactly the transfers and combines clients were told of', () => {
    const report = judgeLedger(snapshot([...ISSUES, ...TRANSFER, ...COMBINE_OUTS, COMBINE_IN, COMBINE_IN]), [
      ...ISSUE_CALLS,
      TRANSFER_CALL,
      COMBINE_CALL,
    ]);

    expect(report.violations).toEqual([]);
    expect(failing(report)).toEqual([]);
    expect(report.totals).toMatchObject({ transferred: '30', combined: '40', balances: '140' });
  });

  it('finds a combine credit missing although the operation wrote its other entries', () => {
    const report = judgeLedger(snapshot([...ISSUES, ...COMBINE_OUTS, COMBINE_IN]), [...ISSUE_CALLS, COMBINE_CALL]);

    expect(report.lost).toBe(1);
    expect(report.violations).toContain('lost: CombineCards key-c: no entry of operation op-c of 20 on F');
  });

  it('finds an entry of an acknowledged operation that no effect of its answer accounts for', () => {
    const report = judgeLedger(snapshot([...ISSUES, ...COMBINE_OUTS, COMBINE_IN, COMBINE_IN, COMBINE_IN]), [
      ...ISSUE_CALLS,
      COMBINE_CALL,
    ]);

    expect(report.duplicated).toBe(1);
    expect(report.violations).toContain(
      'duplicated: CombineCards key-c: applied again as entry entry-8 (COMBINE_IN 20)',
    );
  });

  it('finds a transfer applied again as entries and a card no client was told of', () => {
    const again: Posting[] = [
      { id: 'out-2', card: 'F', operation: 'op-t2', type: 'TRANSFER_OUT', amount: -30n },
      { id: 'in-2', card: 'N2', operation: 'op-t2', type: 'TRANSFER_IN', amount: 30n },
    ];
    const report = judgeLedger(snapshot([...ISSUES, ...TRANSFER, ...again]), [...ISSUE_CALLS, TRANSFER_CALL]);

    expect(report.duplicated).toBe(2);
    expect(failing(report)).toEqual([
      'nothing is in the ledger that no client was told of',
      "every card's balance equals what its acknowledged calls add up to",
    ]);
    expect(report.violations).toContain('model: card N2 was never issued to any client');
  });

  it('does not excuse an entry without a reference because some call without one went unanswered', () => {
    const inquiry = call('BalanceInquiry', 'unresolved', [], { key: null });
    const report = judgeLedger(snapshot([...ISSUES, ...TRANSFER]), [...ISSUE_CALLS, inquiry]);

    expect(report.violations).toEqual(
      expect.arrayContaining([
        'phantom: entry out-1 (TRANSFER_OUT -30 on F) answers no acknowledged call',
        'phantom: entry in-1 (TRANSFER_IN 30 on N) answers no acknowledged call',
      ]),
    );
  });

  it('lets one entry answer one call only', () => {
    const report = judgeLedger(snapshot([...ISSUES, ...TRANSFER]), [...ISSUE_CALLS, TRANSFER_CALL, TRANSFER_CALL]);

    expect(report.lost).toBe(1);
    expect(report.violations).toContain(
      'lost: BalanceTransfer key-t: entry out-1 of -30 on F already answers another call',
    );
  });

  it('finds moves between cards that do not net zero, even when their errors cancel out overall', () => {
    const leaky: Posting[] = [
      { id: 'out-1', card: 'F', operation: 'op-t', type: 'TRANSFER_OUT', amount: -30n },
      { id: 'in-1', card: 'N', operation: 'op-t', type: 'TRANSFER_IN', amount: 35n },
      { id: 'out-2', card: 'F', operation: 'op-t2', type: 'TRANSFER_OUT', amount: -30n },
      { id: 'in-2', card: 'N2', operation: 'op-t2', type: 'TRANSFER_IN', amount: 25n },
    ];
    const told = (out: string, into: string, card: string, inMinor: bigint): CallRecord =>
      call(
        'BalanceTransfer',
        'acknowledged',
        [
          { giftCardId: 'F', deltaMinor: -30n, transactionId: out },
          { giftCardId: card, deltaMinor: inMinor, transactionId: into },
        ],
        { key: out },
      );
    const report = judgeLedger(snapshot([...ISSUES, ...leaky], { ...CLAIMS, 'out-1': 'op-t', 'out-2': 'op-t2' }), [
      ...ISSUE_CALLS,
      told('out-1', 'in-1', 'N', 35n),
      told('out-2', 'in-2', 'N2', 25n),
    ]);

    expect(failing(report)).toEqual(['sum of balances = issued + reloaded - redeemed + refunded']);
    expect(report.violations).toEqual([
      'conservation: operation op-t moves money that nets 5',
      'conservation: operation op-t2 moves money that nets -5',
    ]);
  });
  it('attributes the entries of a refused transfer to it through its key, though they carry no reference', () => {
    const refused: CallRecord = {
      ...call('BalanceTransfer', 'refused', [], { key: 'key-t' }),
      refusal: { code: 'FAILED_PRECONDITION', reason: 'INSUFFICIENT_FUNDS' },
    };
    const report = judgeLedger(snapshot([...ISSUES, ...TRANSFER]), [...ISSUE_CALLS, refused]);

    expect(report.duplicated).toBe(2);
    expect(report.violations).toEqual([
      'refused-applied: BalanceTransfer key-t: refused INSUFFICIENT_FUNDS yet its key is stored',
      'refused-applied: BalanceTransfer key-t: refused INSUFFICIENT_FUNDS yet entry out-1 exists',
      'refused-applied: BalanceTransfer key-t: refused INSUFFICIENT_FUNDS yet entry in-1 exists',
      'model: card F: balance 70, the acknowledged calls add up to 100',
      'model: card N was never issued to any client',
    ]);
  });

  it('holds an unresolved transfer’s entries as its own, found through its key, not as entries nobody asked for', () => {
    const unresolved = call('BalanceTransfer', 'unresolved', [], { key: 'key-t' });
    const report = judgeLedger(snapshot([...ISSUES, ...TRANSFER]), [...ISSUE_CALLS, unresolved]);

    expect(report.violations.filter((line) => line.startsWith('phantom'))).toEqual([]);
    expect(report.violations).toContain('unresolved: BalanceTransfer key-t never got a definite answer');
  });

  it('finds an acknowledged call whose key is not stored, which a retry would apply again', () => {
    const withoutTransferKey = Object.fromEntries(Object.entries(CLAIMS).filter(([key]) => key !== 'key-t'));
    const report = judgeLedger(snapshot([...ISSUES, ...TRANSFER], withoutTransferKey), [...ISSUE_CALLS, TRANSFER_CALL]);

    expect(report.lost).toBe(1);
    expect(report.violations).toEqual(['lost: BalanceTransfer key-t: its key is not stored']);
  });

  it('finds an answer naming entries of another key’s operation', () => {
    const report = judgeLedger(snapshot([...ISSUES, ...TRANSFER], { ...CLAIMS, 'key-t': 'op-other' }), [
      ...ISSUE_CALLS,
      TRANSFER_CALL,
    ]);

    expect(report.lost).toBe(1);
    expect(report.violations).toContain(
      "lost: BalanceTransfer key-t: entry out-1 of -30 on F belongs to another key's operation",
    );
  });
});
