import type { Minor } from './money';

/** What happened to a hold, as the card's history shows it; a capture is its REDEEM ledger entry. */
export const HoldEventType = {
  PLACED: 'PLACED',
  VOIDED: 'VOIDED',
  EXPIRED: 'EXPIRED',
} as const;
export type HoldEventType = (typeof HoldEventType)[keyof typeof HoldEventType];

/** One immutable record of a hold being placed or released, written under the card's lock. */
export interface HoldEvent {
  readonly publicId: string;
  readonly holdId: bigint;
  readonly cardId: bigint;
  readonly type: HoldEventType;
  /** The held amount, signed by what it did to the available balance: placing takes, releasing gives. */
  readonly amountMinor: Minor;
  /** The card's balance, which a hold never changes. */
  readonly balanceMinor: Minor;
  readonly availableAfterMinor: Minor;
  /** When it happened: an expiry happens at the hold's expire time, whenever it is recorded. */
  readonly occurredAt: Date;
}
