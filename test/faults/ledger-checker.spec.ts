import { judgeLedger, type CheckReport } from './support/checker';
import type { CardRow, EntryRow, HoldRow, LedgerSnapshot } from './support/ledger-snapshot';
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
  /** A REVERSAL: the id of the posting it undoes. */
  readonly reverses?: string;
  /** A capture's REDEEM: the hold it captured. */
  readonly hold?: bigint;
}

/** A hold on a card of the snapshot, by the card's public id. */
interface HoldPosting extends Omit<HoldRow, 'cardId'> {
  readonly card: string;
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
 * Entries in the order given, the keys stored and the holds; every card the entries touch holds
 * exactly the sum of its entries, and the sum of its ACTIVE holds as its tally (unless `held` says
 * otherwise).
 */
function snapshot(
  postings: readonly Posting[],
  claims: Readonly<Record<string, string | null>> = CLAIMS,
  holdPostings: readonly HoldPosting[] = [],
  held: Readonly<Record<string, bigint>> = {},
): LedgerSnapshot {
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
    reversesEntryId: p.reverses === undefined ? null : BigInt(postings.findIndex((u) => u.id === p.reverses) + 1),
    holdId: p.hold ?? null,
  }));
  const holds: HoldRow[] = holdPostings.map(({ card, ...hold }) => ({ ...hold, cardId: cardId(card) }));
  const cards: CardRow[] = [...cardIds].map(([publicId, id]) => ({
    id,
    publicId,
    balanceMinor: entries.filter((e) => e.cardId === id).reduce((sum, e) => sum + e.amountMinor, 0n),
    heldMinor:
      held[publicId] ??
      holds.filter((h) => h.cardId === id && h.status === 'ACTIVE').reduce((sum, h) => sum + h.amountMinor, 0n),
  }));
  return { since: { cardId: 0n, entryId: 0n }, entries, cards, claims: new Map(Object.entries(claims)), holds };
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

    expect(failing(report)).toEqual([
      'sum of balances = issued + reloaded - redeemed + refunded ± reversed ± adjusted',
    ]);
    expect(report.violations).toEqual([
      'conservation: operation op-t moves money that nets 5',
      'conservation: operation op-t2 moves money that nets -5',
    ]);
  });
  it('counts operator adjustments as money in and out: told of, they conserve; untold, they are phantoms', () => {
    const adjustments: Posting[] = [
      { id: 'adj-1', card: 'F', operation: 'op-a1', type: 'ADJUSTMENT', amount: 15n },
      { id: 'adj-2', card: 'S1', operation: 'op-a2', type: 'ADJUSTMENT', amount: -5n },
    ];
    const adjusted = (id: string, card: string, amount: bigint): CallRecord =>
      call('AdjustBalance', 'acknowledged', [{ giftCardId: card, deltaMinor: amount, transactionId: id }], {
        key: `key-${id}`,
      });
    const claims = { ...CLAIMS, 'key-adj-1': 'op-a1', 'key-adj-2': 'op-a2' };
    const honest = judgeLedger(snapshot([...ISSUES, ...adjustments], claims), [
      ...ISSUE_CALLS,
      adjusted('adj-1', 'F', 15n),
      adjusted('adj-2', 'S1', -5n),
    ]);
    expect(honest.violations).toEqual([]);
    expect(honest.totals).toMatchObject({ adjusted: '10', balances: '150' });

    const untold = judgeLedger(snapshot([...ISSUES, ...adjustments], claims), [
      ...ISSUE_CALLS,
      adjusted('adj-1', 'F', 15n),
    ]);
    expect(failing(untold)).toContain('nothing is in the ledger that no client was told of');
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

  describe('holds and reversals', () => {
    /** F reloaded 50 (key r), the reload reversed; a redemption (key x) applied, answer lost, reversed. */
    const RELOAD: Posting = { id: 'reload-1', card: 'F', operation: 'op-r', type: 'RELOAD', amount: 50n, ref: 'r' };
    const RELOAD_UNDONE: Posting = {
      id: 'rev-1',
      card: 'F',
      operation: 'op-v1',
      type: 'REVERSAL',
      amount: -50n,
      ref: 'r',
      reverses: 'reload-1',
    };
    const RACED: Posting = { id: 'redeem-x', card: 'F', operation: 'op-x', type: 'REDEEM', amount: -30n, ref: 'x' };
    const RACED_UNDONE: Posting = {
      id: 'rev-2',
      card: 'F',
      operation: 'op-v2',
      type: 'REVERSAL',
      amount: 30n,
      ref: 'x',
      reverses: 'redeem-x',
    };
    const HOLD = { id: 1n, publicId: 'hold-1', card: 'F', amountMinor: 40n, status: 'CAPTURED', capturedMinor: 25n };
    const CAPTURE: Posting = { id: 'cap-1', card: 'F', operation: 'op-c1', type: 'REDEEM', amount: -25n, hold: 1n };
    /** What idempotency_record holds: the reload's and capture's keys, x's key (its call applied), a reserved key. */
    const STORED = { ...CLAIMS, r: 'op-r', x: 'op-x', 'cap-key': 'op-c1', late: null };

    const reload = call('Reload', 'acknowledged', [{ giftCardId: 'F', deltaMinor: 50n, transactionId: 'reload-1' }], {
      key: 'r',
      externalRef: 'r',
    });
    const redeemX = call('Redeem', 'acknowledged', [{ giftCardId: 'F', deltaMinor: -30n, transactionId: 'redeem-x' }], {
      key: 'x',
      externalRef: 'x',
    });
    const capture = call(
      'CaptureHold',
      'acknowledged',
      [{ giftCardId: 'F', deltaMinor: -25n, transactionId: 'cap-1' }],
      {
        key: 'cap-key',
      },
    );
    /** A reversal names another call's key: it claims none of its own, and says what it found. */
    const reversal = (key: string, found: boolean, effects: BalanceEffect[]): CallRecord => ({
      ...call('ReverseOperation', 'acknowledged', effects, { key: null }),
      reversal: { key, found },
    });
    const refusedAsReversed = (key: string, extra: Partial<CallRecord> = {}): CallRecord => ({
      ...call('Redeem', 'refused', [], { key, externalRef: key }),
      refusal: { code: 'ALREADY_EXISTS', reason: 'OPERATION_REVERSED' },
      ...extra,
    });

    it('passes reversals that undid their calls, a late original refused, and a hold captured once', () => {
      const report = judgeLedger(
        snapshot([...ISSUES, RELOAD, RELOAD_UNDONE, RACED, RACED_UNDONE, CAPTURE], STORED, [HOLD]),
        [
          ...ISSUE_CALLS,
          reload,
          reversal('r', true, [{ giftCardId: 'F', deltaMinor: -50n, transactionId: 'rev-1' }]),
          // The redemption's answer was lost; its retry met the reversal, which had undone it.
          refusedAsReversed('x'),
          reversal('x', true, [{ giftCardId: 'F', deltaMinor: 30n, transactionId: 'rev-2' }]),
          reversal('late', false, []),
          refusedAsReversed('late', { afterReversal: true }),
          capture,
        ],
      );
      expect(report.violations).toEqual([]);
      expect(report.totals).toMatchObject({ reversed: '-20', captured: '1', holds: '1' });
    });

    it('passes a redemption refused and its key then reserved by the reversal that found nothing', () => {
      const refused: CallRecord = {
        ...call('Redeem', 'refused', [], { key: 'late', externalRef: 'late' }),
        refusal: { code: 'FAILED_PRECONDITION', reason: 'INSUFFICIENT_FUNDS' },
      };
      const report = judgeLedger(snapshot([...ISSUES], STORED), [...ISSUE_CALLS, refused, reversal('late', false, [])]);
      expect(report.violations).toEqual([]);
    });

    it('finds a call applied and kept although its reversal said nothing was applied', () => {
      const report = judgeLedger(snapshot([...ISSUES, RACED], STORED), [
        ...ISSUE_CALLS,
        redeemX,
        reversal('x', false, []),
      ]);
      expect(failing(report)).toEqual(['every reversal undoes its call exactly once; nothing reversed stays applied']);
      expect(report.violations).toEqual([
        'reversal: ReverseOperation x: found nothing to reverse, yet the call was applied and kept',
      ]);
    });

    it('finds a call refused as reversed whose entry nobody undid', () => {
      const report = judgeLedger(snapshot([...ISSUES, RACED], STORED), [...ISSUE_CALLS, refusedAsReversed('x')]);
      expect(report.violations).toContain('reversal: Redeem x: refused as reversed, yet entry redeem-x stands');
    });

    it('finds a late original applied after its key was reversed', () => {
      const report = judgeLedger(snapshot([...ISSUES, RACED], STORED), [
        ...ISSUE_CALLS,
        reversal('x', false, []),
        { ...redeemX, afterReversal: true },
      ]);
      expect(failing(report)).toContain('no call sent after its key was reversed is applied');
      expect(report.violations).toContain(
        'late-original: Redeem x ended acknowledged though its key was reversed first',
      );
    });

    it('finds a reversal that moved more than its call, and an entry undone twice', () => {
      const overdone: Posting = { ...RELOAD_UNDONE, amount: -60n };
      const twice: Posting = { ...RELOAD_UNDONE, id: 'rev-1b' };
      const report = judgeLedger(snapshot([...ISSUES, RELOAD, overdone, twice], STORED), [
        ...ISSUE_CALLS,
        reload,
        reversal('r', true, [{ giftCardId: 'F', deltaMinor: -60n, transactionId: 'rev-1' }]),
        reversal('r', true, [{ giftCardId: 'F', deltaMinor: -50n, transactionId: 'rev-1b' }]),
      ]);
      expect(report.violations).toEqual(
        expect.arrayContaining([
          'reversal: entry reload-1 (RELOAD) undone 2 times',
          'reversal: REVERSAL rev-1 of RELOAD 50 moved -60, not -50',
        ]),
      );
    });

    it('finds a hold captured twice or beyond what it held, and holds above the balance', () => {
      const again: Posting = { ...CAPTURE, id: 'cap-2', operation: 'op-c2', amount: -20n };
      const report = judgeLedger(
        snapshot([...ISSUES, CAPTURE, again], { ...STORED, 'cap-key-2': 'op-c2' }, [HOLD], { F: 500n }),
        [
          ...ISSUE_CALLS,
          capture,
          call('CaptureHold', 'acknowledged', [{ giftCardId: 'F', deltaMinor: -20n, transactionId: 'cap-2' }], {
            key: 'cap-key-2',
          }),
        ],
      );
      expect(failing(report)).toEqual([
        'no hold is captured twice, nor beyond what it held',
        'no available balance is negative, every hold tally is its open holds',
      ]);
      expect(report.violations).toEqual(
        expect.arrayContaining([
          'hold: hold hold-1 captured 2 times',
          'hold: hold hold-1 captured 45, more than the 40 it held',
          'available: card F: holds of 500 on a balance of 55',
        ]),
      );
    });
  });
});
