import { randomUUID } from 'node:crypto';
import { availableMinor } from '../domain/gift-card';
import { authorize, HoldStatus } from '../domain/hold';
import { HoldEventType } from '../domain/hold-event';
import type { Minor } from '../domain/money';
import { lockReferencedCard, type CardReference } from './card-reference';
import { recordHoldChanges } from './hold-events';
import { runOnce } from './idempotency';
import { accepted, rejected } from './outcome';
import type { AppContext } from './ports';

export interface AuthorizeRedemptionCommand {
  readonly idempotencyKey: string;
  readonly card: CardReference;
  readonly amountMinor: Minor;
  readonly currency: string;
  readonly orderId: string | null;
  readonly allowPartial: boolean;
  /** Null for the configured default; the transport keeps it within the configured maximum. */
  readonly holdDurationMs: number | null;
}

export interface AuthorizationResult {
  readonly holdId: string;
  readonly giftCardId: string;
  readonly heldMinor: Minor;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
  readonly expiresAt: Date;
  readonly partial: boolean;
}

/** Places a hold (SPEC §7): under the card's lock, against the available balance, with its history event. */
export function authorizeRedemption(
  ctx: AppContext,
  command: AuthorizeRedemptionCommand,
): Promise<AuthorizationResult> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'AuthorizeRedemption', key: idempotencyKey, payload }, async (tx, claim) => {
    // Lock before reading the available balance: two authorizations must not both see it unheld.
    const located = await lockReferencedCard(ctx, tx, command.card);
    if (!located.ok) return rejected(located.error);
    const operationId = await claim();
    const { card, now } = located.value;
    const authorization = authorize(
      card,
      {
        amountMinor: command.amountMinor,
        currency: command.currency,
        allowPartial: command.allowPartial,
        durationMs: command.holdDurationMs,
      },
      ctx.limits.holds,
      now,
    );
    const hold = await tx.holds.insert({
      publicId: randomUUID(),
      cardId: card.id,
      amountMinor: authorization.heldMinor,
      currency: card.currency,
      status: HoldStatus.ACTIVE,
      orderId: command.orderId,
      capturedMinor: null,
      createdAt: now,
      expiresAt: authorization.expiresAt,
      closedAt: null,
    });
    await tx.cards.save(authorization.card, now);
    const availableAfter = availableMinor(authorization.card);
    await recordHoldChanges(
      tx,
      [
        {
          type: HoldEventType.PLACED,
          hold,
          card: authorization.card,
          availableAfterMinor: availableAfter,
          occurredAt: now,
        },
      ],
      operationId,
    );
    return accepted({
      holdId: hold.publicId,
      giftCardId: card.publicId,
      heldMinor: hold.amountMinor,
      balanceMinor: authorization.card.balanceMinor,
      availableMinor: availableAfter,
      currency: card.currency,
      expiresAt: hold.expiresAt,
      partial: authorization.partial,
    });
  });
}
