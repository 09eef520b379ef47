import { randomUUID } from 'node:crypto';
import type { CardEvent } from '../domain/card-event';
import type { GiftCard } from '../domain/gift-card';
import type { Hold } from '../domain/hold';
import { HoldEventType, type HoldEvent } from '../domain/hold-event';
import type { Minor } from '../domain/money';
import { holdChanged } from './card-events';
import type { TransactionScope } from './ports';

/** A hold placed, voided or expired on a card, with the available balance just after it. */
export interface HoldChange {
  readonly type: HoldEventType;
  readonly hold: Hold;
  /** The card as the change left it: a hold never changes the balance. */
  readonly card: GiftCard;
  readonly availableAfterMinor: Minor;
  readonly occurredAt: Date;
}

/**
 * Records hold changes in the card's history and announces them to other services, in the
 * transaction that makes them and under the card's lock: every hold event has its card event, as
 * every ledger entry has its (ledger-posting.ts). `operationId` is the request's that made the
 * changes; an expiry recorded by whoever locked the card next gets one of its own.
 */
export async function recordHoldChanges(
  tx: TransactionScope,
  changes: readonly HoldChange[],
  operationId: string,
): Promise<void> {
  const events = changes.map(holdEvent);
  await tx.holds.recordEvents(events);
  for (const [index, change] of changes.entries()) {
    const event = events[index];
    if (event !== undefined) tx.outbox.add(cardEventOf(change, event, operationId));
  }
}

/** Placing takes the held amount from the available balance; voiding or expiring gives it back. */
function holdEvent(change: HoldChange): HoldEvent {
  const { type, hold, card } = change;
  return {
    publicId: randomUUID(),
    holdId: hold.id,
    cardId: card.id,
    type,
    amountMinor: type === HoldEventType.PLACED ? -hold.amountMinor : hold.amountMinor,
    balanceMinor: card.balanceMinor,
    availableAfterMinor: change.availableAfterMinor,
    occurredAt: change.occurredAt,
  };
}

function cardEventOf(change: HoldChange, event: HoldEvent, operationId: string): CardEvent {
  return holdChanged(change.type, change.hold, change.card, event.availableAfterMinor, operationId, event.occurredAt);
}
