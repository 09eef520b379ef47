import { randomUUID } from 'node:crypto';
import type { GiftCard } from '../domain/gift-card';
import type { Hold } from '../domain/hold';
import { HoldEventType, type HoldEvent } from '../domain/hold-event';
import type { Minor } from '../domain/money';

/**
 * The history record of a hold being placed or released on the card. Placing takes the held
 * amount from the available balance; voiding or expiring gives it back.
 */
export function holdEvent(
  type: HoldEventType,
  hold: Hold,
  card: GiftCard,
  availableAfterMinor: Minor,
  occurredAt: Date,
): HoldEvent {
  return {
    publicId: randomUUID(),
    holdId: hold.id,
    cardId: card.id,
    type,
    amountMinor: type === HoldEventType.PLACED ? -hold.amountMinor : hold.amountMinor,
    balanceMinor: card.balanceMinor,
    availableAfterMinor,
    occurredAt,
  };
}
