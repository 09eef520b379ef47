import { availableMinor, NO_HOLDS, type GiftCard } from '../../src/domain/gift-card';
import {
  authorize,
  capture,
  HoldStatus,
  settleLapsed,
  tallyOf,
  voidHold,
  type Hold,
  type HoldPolicy,
} from '../../src/domain/hold';
import { DomainError } from '../../src/domain/errors';
import { aCard } from '../support/card-fixture';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const POLICY: HoldPolicy = { defaultDurationMs: 7 * 86_400_000, maxDurationMs: 30 * 86_400_000, maxOpenPerCard: 3 };

let nextId = 1n;
function aHold(amountMinor: bigint, expiresAtMs: number, overrides: Partial<Hold> = {}): Hold {
  const id = nextId++;
  return {
    id,
    publicId: `hold-${id}`,
    cardId: 1n,
    amountMinor,
    currency: 'USD',
    status: HoldStatus.ACTIVE,
    orderId: null,
    capturedMinor: null,
    createdAt: T0,
    expiresAt: at(expiresAtMs),
    closedAt: null,
    ...overrides,
  };
}

/** A card carrying exactly these open holds. */
const cardWith = (balanceMinor: bigint, open: readonly Hold[], overrides: Partial<GiftCard> = {}): GiftCard =>
  aCard({ balanceMinor, holds: tallyOf(open), ...overrides });

const reasonOf = (rule: () => unknown): string => {
  try {
    rule();
  } catch (error) {
    if (error instanceof DomainError) return error.reason;
    throw error;
  }
  throw new Error('the rule did not refuse');
};

describe('authorize', () => {
  it('holds from the available balance and adds the hold to the card’s tally', () => {
    const other = aHold(300n, 10_000);
    const placed = authorize(
      cardWith(1_000n, [other]),
      { amountMinor: 500n, currency: 'USD', allowPartial: false, durationMs: 5_000 },
      POLICY,
      T0,
    );
    expect(placed).toMatchObject({ heldMinor: 500n, partial: false, expiresAt: at(5_000) });
    expect(placed.card.holds).toEqual({ heldMinor: 800n, count: 2, nextExpiresAt: at(5_000) });
    expect(availableMinor(placed.card)).toBe(200n);
  });

  it('never outlasts the card, and takes the default duration when none is asked for', () => {
    const terms = { amountMinor: 1n, currency: 'USD', allowPartial: false, durationMs: null };
    expect(authorize(aCard({ balanceMinor: 5n }), terms, POLICY, T0).expiresAt).toEqual(at(POLICY.defaultDurationMs));
    const card = aCard({ balanceMinor: 5n, expiresAt: at(60_000) });
    expect(authorize(card, terms, POLICY, T0).expiresAt).toEqual(at(60_000));
  });

  it('refuses past the open-hold limit, past the available balance, or with lapsed holds unsettled', () => {
    const terms = { amountMinor: 1n, currency: 'USD', allowPartial: false, durationMs: 1_000 };
    const full = cardWith(100n, [aHold(1n, 9_000), aHold(1n, 9_000), aHold(1n, 9_000)]);
    expect(reasonOf(() => authorize(full, terms, POLICY, T0))).toBe('HOLD_LIMIT_REACHED');
    const held = cardWith(100n, [aHold(100n, 9_000)]);
    expect(reasonOf(() => authorize(held, terms, POLICY, T0))).toBe('INSUFFICIENT_FUNDS');
    expect(() => authorize(held, terms, POLICY, at(9_000))).toThrow(/lapsed holds/);
  });
});

describe('settleLapsed', () => {
  it('expires each lapsed hold at its own time, with the available balance just after it', () => {
    const first = aHold(100n, 1_000);
    const second = aHold(200n, 2_000);
    const lasting = aHold(300n, 60_000);
    const settled = settleLapsed(cardWith(1_000n, [lasting, second, first]), [lasting, second, first], at(5_000));
    expect(settled.lapses.map((l) => [l.hold.publicId, l.hold.status, l.hold.closedAt, l.availableAfterMinor])).toEqual(
      [
        [first.publicId, HoldStatus.EXPIRED, at(1_000), 500n],
        [second.publicId, HoldStatus.EXPIRED, at(2_000), 700n],
      ],
    );
    expect(settled.card.holds).toEqual({ heldMinor: 300n, count: 1, nextExpiresAt: at(60_000) });
  });

  it('treats a hold at its expire time as lapsed, and one a millisecond before as open', () => {
    const hold = aHold(100n, 1_000);
    expect(settleLapsed(cardWith(100n, [hold]), [hold], at(999)).lapses).toEqual([]);
    expect(settleLapsed(cardWith(100n, [hold]), [hold], at(1_000)).card.holds).toEqual(NO_HOLDS);
  });

  it('refuses to settle a card whose tally does not match its open holds (our bug, not the caller’s)', () => {
    const hold = aHold(100n, 1_000);
    expect(() => settleLapsed(cardWith(100n, []), [hold], at(2_000))).toThrow(/tally/);
  });
});

describe('capture and void', () => {
  it('captures part of a hold, releasing the rest, and takes it off the balance', () => {
    const hold = aHold(500n, 10_000);
    const other = aHold(100n, 20_000);
    const captured = capture(cardWith(1_000n, [hold, other]), [hold, other], hold, 300n, at(1));
    expect(captured).toMatchObject({ capturedMinor: 300n, releasedMinor: 200n });
    expect(captured.hold).toMatchObject({ status: HoldStatus.CAPTURED, capturedMinor: 300n, closedAt: at(1) });
    expect(captured.card).toMatchObject({ balanceMinor: 700n, holds: { heldMinor: 100n, count: 1 } });
  });

  it('refuses more than the hold, a closed hold and an expired one, by name', () => {
    const hold = aHold(500n, 10_000);
    const card = cardWith(1_000n, [hold]);
    expect(reasonOf(() => capture(card, [hold], hold, 501n, T0))).toBe('CAPTURE_EXCEEDS_HOLD');
    expect(reasonOf(() => capture(card, [hold], hold, null, at(10_000)))).toBe('HOLD_EXPIRED');
    const voided = { ...hold, status: HoldStatus.VOIDED, closedAt: T0 };
    expect(reasonOf(() => capture(cardWith(1_000n, []), [], voided, null, T0))).toBe('HOLD_NOT_ACTIVE');
    expect(reasonOf(() => voidHold(cardWith(1_000n, []), [], voided, T0))).toBe('HOLD_NOT_ACTIVE');
  });

  it('voids a hold whole, leaving the balance', () => {
    const hold = aHold(500n, 10_000);
    const voided = voidHold(cardWith(1_000n, [hold]), [hold], hold, T0);
    expect(voided).toMatchObject({ releasedMinor: 500n, card: { balanceMinor: 1_000n, holds: NO_HOLDS } });
  });
});
