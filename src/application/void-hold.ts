import { availableMinor } from '../domain/gift-card';
import { voidHold as releaseHold } from '../domain/hold';
import { HoldEventType } from '../domain/hold-event';
import type { Minor } from '../domain/money';
import { lockHeldCard } from './held-card';
import { recordHoldChanges } from './hold-events';
import { runOnce } from './idempotency';
import { accepted } from './outcome';
import type { AppContext } from './ports';

export interface VoidHoldCommand {
  readonly idempotencyKey: string;
  readonly holdId: string;
}

export interface VoidResult {
  readonly holdId: string;
  readonly giftCardId: string;
  readonly releasedMinor: Minor;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
}

/** Releases a hold whole (SPEC §7), under the card's lock, with its history event. */
export function voidHold(ctx: AppContext, command: VoidHoldCommand): Promise<VoidResult> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'VoidHold', key: idempotencyKey, payload }, async (tx, claim) => {
    const { card, now, hold, open } = await lockHeldCard(ctx, tx, command.holdId);
    const operationId = await claim();
    const released = releaseHold(card, open, hold, now);
    await tx.holds.close([released.hold]);
    await tx.cards.save(released.card, now);
    const availableAfter = availableMinor(released.card);
    await recordHoldChanges(
      tx,
      [{ type: HoldEventType.VOIDED, hold, card: released.card, availableAfterMinor: availableAfter, occurredAt: now }],
      operationId,
    );
    return accepted({
      holdId: hold.publicId,
      giftCardId: card.publicId,
      releasedMinor: released.releasedMinor,
      balanceMinor: released.card.balanceMinor,
      availableMinor: availableAfter,
      currency: card.currency,
    });
  });
}
