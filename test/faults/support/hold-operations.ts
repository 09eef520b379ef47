import { OperationType } from '../../../gen/giftcard/v1/reversal';
import { nameCard } from './card-naming';
import { planned, type WorkloadOperation } from './planned-call';

/** A capture or void may meet a hold another client's call closed, or one that expired meanwhile. */
const HOLD_GONE = ['HOLD_NOT_ACTIVE', 'HOLD_EXPIRED'] as const;

/**
 * A hold on a fixed card. Now and then one short enough to expire during the run, so captures,
 * voids and spending race its expire time (and the sweeper).
 */
export const authorizeRedemption: WorkloadOperation = {
  name: 'AuthorizeRedemption',
  weight: 2,
  plan: (world, rng, key) => {
    const card = rng.pick(world.cards);
    const request = {
      idempotencyKey: key,
      ...nameCard(card, rng),
      amount: rng.amount(1n, 2_000n),
      currency: world.currency,
      orderId: key,
      allowPartial: rng.chance(0.25),
      holdDuration: { seconds: rng.chance(0.3) ? BigInt(rng.int(1, 3)) : 600n, nanos: 0 },
    };
    return planned({
      operation: 'AuthorizeRedemption',
      key,
      // A hold is no ledger entry; its capture's entry is found by the id the capture's answer names.
      externalRef: null,
      allowedRefusals: ['INSUFFICIENT_FUNDS', 'HOLD_LIMIT_REACHED'],
      send: (api, settings) => api.authorizeRedemption(request, settings),
      acknowledge: (answer, w) => {
        w.holds.push({ holdId: answer.holdId, giftCardId: card.giftCardId, amountMinor: answer.heldAmount });
        w.reversible.push({ operationType: OperationType.OPERATION_TYPE_AUTHORIZE_REDEMPTION, key });
        return [];
      },
    });
  },
};

/** All of a hold, or part of it; the capture's REDEEM entry is refundable and reversible. */
export const captureHold: WorkloadOperation = {
  name: 'CaptureHold',
  weight: 2,
  plan: (world, rng, key) => {
    if (world.holds.length === 0) return null;
    const hold = rng.pick(world.holds);
    const request = {
      idempotencyKey: key,
      holdId: hold.holdId,
      amount: rng.chance(0.5) ? 0n : rng.amount(1n, hold.amountMinor),
    };
    return planned({
      operation: 'CaptureHold',
      key,
      externalRef: null,
      allowedRefusals: HOLD_GONE,
      send: (api, settings) => api.captureHold(request, settings),
      acknowledge: (answer, w) => {
        w.closeHold(hold.holdId);
        w.redemptions.push({ transactionId: answer.transactionId, refundableMinor: answer.capturedAmount });
        w.reversible.push({ operationType: OperationType.OPERATION_TYPE_CAPTURE_HOLD, key });
        // Held against the card the hold was placed on: a capture must debit that card.
        return [
          { giftCardId: hold.giftCardId, deltaMinor: -answer.capturedAmount, transactionId: answer.transactionId },
        ];
      },
    });
  },
};

export const voidHold: WorkloadOperation = {
  name: 'VoidHold',
  weight: 1,
  plan: (world, rng, key) => {
    if (world.holds.length === 0) return null;
    const hold = rng.pick(world.holds);
    const request = { idempotencyKey: key, holdId: hold.holdId };
    return planned({
      operation: 'VoidHold',
      key,
      externalRef: null,
      allowedRefusals: HOLD_GONE,
      send: (api, settings) => api.voidHold(request, settings),
      acknowledge: (_answer, w) => {
        w.closeHold(hold.holdId);
        return [];
      },
    });
  },
};
