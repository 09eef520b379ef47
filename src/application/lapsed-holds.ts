import { randomUUID } from 'node:crypto';
import { hasLapsedHolds, type GiftCard } from '../domain/gift-card';
import { settleLapsed } from '../domain/hold';
import { HoldEventType } from '../domain/hold-event';
import { recordHoldChanges } from './hold-events';
import type { AppContext, TransactionScope } from './ports';

/**
 * A card under its row lock, with its lapsed holds recorded as expired, and the time every
 * decision about it in this transaction is taken at.
 */
export interface LockedCard {
  readonly card: GiftCard;
  readonly now: Date;
}

/**
 * Settles a card the caller has just locked. The time is read after the lock was granted, so no
 * decision on a card is taken at a time earlier than a change already made to it: the card's
 * history runs forward in time, and a hold's expire time means the same instant for every call (a
 * capture that queued just before it and got the lock just after is refused as expired, as any
 * call served at that moment would see the hold gone).
 */
export async function settleLocked(ctx: AppContext, tx: TransactionScope, card: GiftCard): Promise<LockedCard> {
  const now = ctx.clock.now();
  return { card: await settleLapsedHolds(tx, card, now), now };
}

/**
 * Records each hold of the card that passed its expire time as expired at that time, with its
 * event in the card's history, before anything else happens to the card. Whoever locks the card
 * first does it (or the sweeper, for cards nobody touches), so the history lists every expiry
 * before whatever happened after it. Most cards have no lapsed hold, and this reads nothing.
 */
export async function settleLapsedHolds(tx: TransactionScope, card: GiftCard, now: Date): Promise<GiftCard> {
  if (!hasLapsedHolds(card, now)) return card;
  const settlement = settleLapsed(card, await tx.holds.listOpen(card.id), now);
  await tx.holds.close(settlement.lapses.map((lapse) => lapse.hold));
  // No request expired them: the settlement is an operation of its own.
  await recordHoldChanges(
    tx,
    settlement.lapses.map(({ hold, availableAfterMinor }) => ({
      type: HoldEventType.EXPIRED,
      hold,
      card: settlement.card,
      availableAfterMinor,
      occurredAt: hold.expiresAt,
    })),
    randomUUID(),
  );
  await tx.cards.save(settlement.card, now);
  return settlement.card;
}
