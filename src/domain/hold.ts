import { DomainError, ErrorReason } from './errors';
import { assertSpendable, assertStatusAdmits, CardUse, NO_HOLDS, type GiftCard, type HoldTally } from './gift-card';
import { assertSameCurrency, type Minor } from './money';
import { takeAvailable } from './redemption';

export const HoldStatus = {
  ACTIVE: 'ACTIVE',
  CAPTURED: 'CAPTURED',
  VOIDED: 'VOIDED',
  EXPIRED: 'EXPIRED',
} as const;
export type HoldStatus = (typeof HoldStatus)[keyof typeof HoldStatus];

/**
 * An authorization: money the card keeps back for one capture. It is its own audit: what was
 * held, what was captured (the rest was released), and when it was created, closed and expires.
 */
export interface Hold {
  readonly id: bigint;
  readonly publicId: string;
  readonly cardId: bigint;
  readonly amountMinor: Minor;
  readonly currency: string;
  /** As stored: a hold past its expire time may still read ACTIVE until it is settled. */
  readonly status: HoldStatus;
  readonly orderId: string | null;
  /** Set when CAPTURED: what the capture took; amountMinor less this was released. */
  readonly capturedMinor: Minor | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** When it was captured or voided; its expire time when it expired. */
  readonly closedAt: Date | null;
}

export interface HoldPolicy {
  readonly defaultDurationMs: number;
  readonly maxDurationMs: number;
  /** Open holds one card may carry; each is money promised to a capture nobody may have made yet. */
  readonly maxOpenPerCard: number;
}

/** A hold about to be stored: what the card keeps back, and until when. */
export interface Authorization {
  /** The card with the new hold in its tally. */
  readonly card: GiftCard;
  readonly heldMinor: Minor;
  readonly partial: boolean;
  readonly expiresAt: Date;
}

export interface AuthorizationTerms {
  readonly amountMinor: Minor;
  readonly currency: string;
  readonly allowPartial: boolean;
  /** Null for the default; the transport keeps it within the maximum. */
  readonly durationMs: number | null;
}

/**
 * Places a hold on a settled card: the balance stays, the available balance drops. A hold never
 * outlives its card: past the card's own expiry there is nothing left to capture from.
 */
export function authorize(card: GiftCard, terms: AuthorizationTerms, policy: HoldPolicy, now: Date): Authorization {
  assertSpendable(card, now, CardUse.AUTHORIZE);
  assertSameCurrency(card.currency, terms.currency);
  if (card.holds.count >= policy.maxOpenPerCard) {
    throw new DomainError(ErrorReason.HOLD_LIMIT_REACHED, 'the card carries the most active holds allowed', {
      maxActiveHolds: policy.maxOpenPerCard.toString(),
    });
  }
  const take = takeAvailable(card, terms.amountMinor, terms.allowPartial);
  const requestedEnd = now.getTime() + (terms.durationMs ?? policy.defaultDurationMs);
  const expiresAt = new Date(card.expiresAt === null ? requestedEnd : Math.min(requestedEnd, card.expiresAt.getTime()));
  return {
    card: { ...card, holds: withHold(card.holds, take.takenMinor, expiresAt) },
    heldMinor: take.takenMinor,
    partial: take.partial,
    expiresAt,
  };
}

function withHold(tally: HoldTally, amountMinor: Minor, expiresAt: Date): HoldTally {
  const next = tally.nextExpiresAt;
  return {
    heldMinor: tally.heldMinor + amountMinor,
    count: tally.count + 1,
    nextExpiresAt: next !== null && next.getTime() <= expiresAt.getTime() ? next : expiresAt,
  };
}

/** The tally of exactly these open holds. */
export function tallyOf(open: readonly Hold[]): HoldTally {
  if (open.length === 0) return NO_HOLDS;
  return {
    heldMinor: open.reduce((sum, hold) => sum + hold.amountMinor, 0n),
    count: open.length,
    nextExpiresAt: new Date(Math.min(...open.map((hold) => hold.expiresAt.getTime()))),
  };
}

const sameTally = (a: HoldTally, b: HoldTally): boolean =>
  a.heldMinor === b.heldMinor && a.count === b.count && a.nextExpiresAt?.getTime() === b.nextExpiresAt?.getTime();

/** The card's open holds as loaded under its lock must be what its tally says; anything else is our bug. */
function assertTallied(card: GiftCard, open: readonly Hold[]): void {
  if (!sameTally(card.holds, tallyOf(open)) || open.some((hold) => hold.cardId !== card.id)) {
    throw new Error(`card ${card.publicId}: its hold tally does not match its open holds`);
  }
}

const isLapsed = (hold: Hold, now: Date): boolean => hold.expiresAt.getTime() <= now.getTime();

/** A hold stops counting at its expire time exactly, whether or not anyone has recorded it yet. */
export function isExpired(hold: Hold, now: Date): boolean {
  return hold.status === HoldStatus.EXPIRED || (hold.status === HoldStatus.ACTIVE && isLapsed(hold, now));
}

/** An unknown hold id: the same answer whether it never existed or is another caller's. */
export function holdNotFound(holdId: string): DomainError {
  return new DomainError(ErrorReason.HOLD_NOT_FOUND, 'no hold with that id', { holdId });
}

/** Capture and void need a hold that is open and not yet expired. */
export function assertOpen(hold: Hold, now: Date): void {
  if (isExpired(hold, now)) {
    throw new DomainError(ErrorReason.HOLD_EXPIRED, 'the hold has expired and its amount was released', {
      holdId: hold.publicId,
      expireTime: hold.expiresAt.toISOString(),
    });
  }
  if (hold.status !== HoldStatus.ACTIVE) {
    throw new DomainError(ErrorReason.HOLD_NOT_ACTIVE, `the hold is ${hold.status}`, {
      holdId: hold.publicId,
      status: hold.status,
    });
  }
}

/** A hold recorded as expired at its expire time, with the available balance just after. */
export interface Lapse {
  readonly hold: Hold;
  readonly availableAfterMinor: Minor;
}

export interface Settlement {
  /** The card with only its unexpired holds in its tally. */
  readonly card: GiftCard;
  /** In the order they expired. */
  readonly lapses: readonly Lapse[];
}

const byExpiry = (a: Hold, b: Hold): number =>
  a.expiresAt.getTime() - b.expiresAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Records the card's lapsed holds as expired, each at its own expire time. Every change to a card
 * settles it first, so nothing changed its balance or holds since the first of them expired: the
 * available balance just after each expiry is the balance less the holds still open after it.
 */
export function settleLapsed(card: GiftCard, open: readonly Hold[], now: Date): Settlement {
  assertTallied(card, open);
  const lapsed = open.filter((hold) => isLapsed(hold, now)).sort(byExpiry);
  const remaining = open.filter((hold) => !isLapsed(hold, now));
  let stillHeld = card.holds.heldMinor;
  const lapses = lapsed.map((hold) => {
    stillHeld -= hold.amountMinor;
    return {
      hold: { ...hold, status: HoldStatus.EXPIRED, closedAt: hold.expiresAt },
      availableAfterMinor: card.balanceMinor - stillHeld,
    };
  });
  return { card: { ...card, holds: tallyOf(remaining) }, lapses };
}

/** A hold closed by capture or void, and the card with it out of its tally. */
export interface Closing {
  readonly card: GiftCard;
  readonly hold: Hold;
  readonly releasedMinor: Minor;
}

function close(card: GiftCard, open: readonly Hold[], closed: Hold, releasedMinor: Minor): Closing {
  const others = open.filter((hold) => hold.id !== closed.id);
  return { card: { ...card, holds: tallyOf(others) }, hold: closed, releasedMinor };
}

export interface Capture extends Closing {
  readonly capturedMinor: Minor;
}

/**
 * Takes the amount (at most what is held; by default all of it) off the balance and releases the
 * rest. The card must be active; its own expiry cannot have passed, as the hold ends with it.
 */
export function capture(
  card: GiftCard,
  open: readonly Hold[],
  hold: Hold,
  amountMinor: Minor | null,
  now: Date,
): Capture {
  assertTallied(card, open);
  assertOpen(hold, now);
  assertStatusAdmits(card, CardUse.CAPTURE);
  const capturedMinor = amountMinor ?? hold.amountMinor;
  if (capturedMinor > hold.amountMinor) {
    throw new DomainError(ErrorReason.CAPTURE_EXCEEDS_HOLD, 'a capture takes at most the held amount', {
      held: hold.amountMinor.toString(),
      requested: capturedMinor.toString(),
    });
  }
  const closing = close(
    { ...card, balanceMinor: card.balanceMinor - capturedMinor },
    open,
    { ...hold, status: HoldStatus.CAPTURED, capturedMinor, closedAt: now },
    hold.amountMinor - capturedMinor,
  );
  return { ...closing, capturedMinor };
}

/** Releases the whole hold; the balance is untouched. Allowed on any card status (SPEC §10). */
export function voidHold(card: GiftCard, open: readonly Hold[], hold: Hold, now: Date): Closing {
  assertTallied(card, open);
  assertOpen(hold, now);
  assertStatusAdmits(card, CardUse.VOID);
  return close(card, open, { ...hold, status: HoldStatus.VOIDED, closedAt: now }, hold.amountMinor);
}
