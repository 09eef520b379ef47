import { OperationType, ReversalOutcome, type ReverseOperationResponse } from '../../../gen/giftcard/v1/reversal';
import { nameCard } from './card-naming';
import { planned, type BalanceEffect, type PlannedCall, type WorkloadOperation } from './planned-call';
import type { Rng } from './random';
import type { WorkloadWorld } from './world';

/**
 * What an acknowledged reversal changed, as its answer says: the REVERSAL entry on the card that
 * holds the money now (credit for a redemption or capture, debit for a reload or an issue); an
 * authorization's hold released, which moves no money.
 */
function reversalEffects(
  operationType: OperationType,
  answer: ReverseOperationResponse,
  world: WorkloadWorld,
): BalanceEffect[] {
  if (answer.outcome !== ReversalOutcome.REVERSAL_OUTCOME_REVERSED) return [];
  switch (operationType) {
    case OperationType.OPERATION_TYPE_AUTHORIZE_REDEMPTION:
      world.closeHold(answer.holdId);
      return [];
    case OperationType.OPERATION_TYPE_REDEEM:
    case OperationType.OPERATION_TYPE_CAPTURE_HOLD:
      world.redemptionReversed(answer.reversedTransactionId);
      return [
        { giftCardId: answer.giftCardId, deltaMinor: answer.reversedAmount, transactionId: answer.transactionId },
      ];
    default:
      return [
        { giftCardId: answer.giftCardId, deltaMinor: -answer.reversedAmount, transactionId: answer.transactionId },
      ];
  }
}

/** A ReverseOperation of the key, read by the checker through what it says it found. */
function reversal(operation: string, operationType: OperationType, key: string, allowedRefusals: readonly string[]) {
  const request = { operationType, idempotencyKey: key };
  return planned({
    operation,
    // It claims no key of its own: the key it names is another call's, carried in its request (a
    // retry resends it, and must get the same answer) and in its reversal note for the checker.
    key: null,
    // Its REVERSAL entry is found by the id its answer names.
    externalRef: null,
    allowedRefusals,
    send: (api, settings) => api.reverseOperation(request, settings),
    acknowledge: (answer, w) => reversalEffects(operationType, answer, w),
    reversalOf: (answer) => ({ key, found: answer.outcome === ReversalOutcome.REVERSAL_OUTCOME_REVERSED }),
  });
}

/**
 * A redemption on a fixed card. Not offered to refunds: the reversal it is sent with may undo it,
 * and a refund of it is no part of what these rows test.
 */
function redemption(world: WorkloadWorld, rng: Rng, key: string) {
  const card = rng.pick(world.cards);
  const request = {
    idempotencyKey: key,
    ...nameCard(card, rng),
    amount: rng.amount(1n, 2_000n),
    currency: world.currency,
    orderId: key,
  };
  return { card, request };
}

/** Undoes a call some client saw acknowledged, picked once: a key is reversed by one row only. */
export const reverseOperation: WorkloadOperation = {
  name: 'ReverseOperation',
  weight: 1,
  plan: (world, rng) => {
    if (world.reversible.length === 0) return null;
    const [target] = world.reversible.splice(rng.int(0, world.reversible.length - 1), 1);
    if (target === undefined) return null;
    world.reversalTargets.add(target.key);
    // What the rules allow: the reloaded money spent, the issued card used, a redemption refunded
    // in full, the hold captured; a credit back past the maximum balance.
    return reversal('ReverseOperation', target.operationType, target.key, [
      'REVERSAL_NOT_POSSIBLE',
      'BALANCE_LIMIT_EXCEEDED',
    ]);
  },
};

/**
 * A redemption and its reversal sent at once with one key: the answer must be one of "nothing was
 * applied" (and the redemption refused) or "applied, and undone"; never applied and kept.
 */
export const reversalRacingOriginal: WorkloadOperation = {
  name: 'ReverseOperation racing its original',
  weight: 1,
  plan: (world, rng, key) => {
    world.reversalTargets.add(key);
    const { card, request } = redemption(world, rng, key);
    const original = planned({
      operation: 'Redeem (racing its reversal)',
      key,
      externalRef: key,
      allowedRefusals: ['INSUFFICIENT_FUNDS', 'OPERATION_REVERSED'],
      send: (api, settings) => api.redeem(request, settings),
      acknowledge: (answer) => [
        { giftCardId: card.giftCardId, deltaMinor: -answer.redeemedAmount, transactionId: answer.transactionId },
      ],
    });
    const undo = reversal('ReverseOperation (racing its original)', OperationType.OPERATION_TYPE_REDEEM, key, []);
    return rng.chance(0.5) ? [original, undo] : [undo, original];
  },
};

/** A reversal of a key nothing was sent with yet: it must find nothing, and reserve the key. */
export const reversalBeforeOriginal: WorkloadOperation = {
  name: 'ReverseOperation (nothing sent yet)',
  weight: 1,
  plan: (world, _rng, key) => {
    world.reversalTargets.add(key);
    const undo = reversal('ReverseOperation (nothing sent yet)', OperationType.OPERATION_TYPE_REDEEM, key, []);
    return {
      ...undo,
      acknowledge: (answer: unknown, w: WorkloadWorld) => {
        const effects = undo.acknowledge(answer, w);
        w.reservedKeys.push(key);
        return effects;
      },
    } satisfies PlannedCall;
  },
};

/** The late original of a reversed key: the service must refuse it and apply nothing. */
export const originalAfterReversal: WorkloadOperation = {
  name: 'Redeem (after its reversal)',
  weight: 1,
  plan: (world, rng) => {
    const key = world.reservedKeys.shift();
    if (key === undefined) return null;
    const { card, request } = redemption(world, rng, key);
    return planned({
      operation: 'Redeem (after its reversal)',
      key,
      externalRef: key,
      allowedRefusals: ['OPERATION_REVERSED'],
      afterReversal: true,
      send: (api, settings) => api.redeem(request, settings),
      // Acknowledged would be the failure this row looks for; the checker names it.
      acknowledge: (answer) => [
        { giftCardId: card.giftCardId, deltaMinor: -answer.redeemedAmount, transactionId: answer.transactionId },
      ],
    });
  },
};
