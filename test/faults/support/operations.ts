import { AdjustmentReason } from '../../../gen/giftcard/v1/card_lifecycle';
import { OperationType } from '../../../gen/giftcard/v1/reversal';
import { nameCard } from './card-naming';
import { authorizeRedemption, captureHold, voidHold } from './hold-operations';
import { balanceTransfer, combineCards, deletingTransfer, giftExistingCard, giftNewCard } from './movement-operations';
import { planned, type WorkloadOperation } from './planned-call';
import {
  originalAfterReversal,
  reversalBeforeOriginal,
  reversalRacingOriginal,
  reverseOperation,
} from './reversal-operations';

export const issueVirtualCard: WorkloadOperation = {
  name: 'IssueVirtualCard',
  weight: 1,
  plan: (world, rng, key) => {
    const request = {
      idempotencyKey: key,
      amount: rng.amount(1_000n, 20_000n),
      currency: world.currency,
      sourceTransactionId: key,
    };
    return planned({
      operation: 'IssueVirtualCard',
      key,
      externalRef: key,
      send: (api, settings) => api.issueVirtualCard(request, settings),
      acknowledge: (card, w) => {
        w.learnCard(card);
        // Nobody uses these cards after: a reversal finds them untouched and takes their funding back.
        w.reversible.push({ operationType: OperationType.OPERATION_TYPE_ISSUE_VIRTUAL_CARD, key });
        return [{ giftCardId: card.giftCardId, deltaMinor: card.balance, transactionId: card.transactionId }];
      },
    });
  },
};

export const reload: WorkloadOperation = {
  name: 'Reload',
  weight: 3,
  plan: (world, rng, key) => {
    const card = world.fixedCard(rng);
    const amount = rng.amount(1n, 3_000n);
    const request = {
      idempotencyKey: key,
      ...nameCard(card, rng),
      amount,
      currency: world.currency,
      sourceTransactionId: key,
    };
    return planned({
      operation: 'Reload',
      key,
      externalRef: key,
      allowedRefusals: ['BALANCE_LIMIT_EXCEEDED'],
      send: (api, settings) => api.reload(request, settings),
      // Held against the card the client named: a reload must credit that card, whatever the answer says.
      acknowledge: (answer, w) => {
        w.reversible.push({ operationType: OperationType.OPERATION_TYPE_RELOAD, key });
        return [{ giftCardId: card.giftCardId, deltaMinor: amount, transactionId: answer.transactionId }];
      },
    });
  },
};

/** A fixed card mostly; now and then a spare, so refunds of its redemptions follow its money on. */
export const redeem: WorkloadOperation = {
  name: 'Redeem',
  weight: 4,
  plan: (world, rng, key) => {
    const named = world.sparesByCredentials();
    const spare = named.length > 0 && rng.chance(0.2) ? rng.pick(named) : null;
    const fixed = world.fixedCard(rng);
    const giftCardId = spare?.giftCardId ?? fixed.giftCardId;
    const request = {
      idempotencyKey: key,
      // A spare by its credentials: no gift of it runs until this call settles.
      ...(spare === null ? nameCard(fixed, rng) : { cardNumber: spare.cardNumber, passcode: spare.passcode }),
      amount: rng.amount(1n, 4_000n),
      currency: world.currency,
      orderId: key,
      allowPartial: rng.chance(0.25),
    };
    return planned({
      operation: 'Redeem',
      key,
      externalRef: key,
      // A spare may have been combined or transferred away by a call in flight.
      allowedRefusals: spare === null ? ['INSUFFICIENT_FUNDS'] : ['INSUFFICIENT_FUNDS', 'CARD_NOT_ACTIVE'],
      ...(spare === null ? {} : { settled: world.callByCredentials(spare) }),
      send: (api, settings) => api.redeem(request, settings),
      acknowledge: (answer, w) => {
        w.redemptions.push({ transactionId: answer.transactionId, refundableMinor: answer.redeemedAmount });
        w.reversible.push({ operationType: OperationType.OPERATION_TYPE_REDEEM, key });
        return [
          // Held against the card the client named: a redemption must debit that card.
          { giftCardId, deltaMinor: -answer.redeemedAmount, transactionId: answer.transactionId },
        ];
      },
    });
  },
};

export const refund: WorkloadOperation = {
  name: 'Refund',
  weight: 2,
  plan: (world, rng, key) => {
    const open = world.redemptions.filter((r) => r.refundableMinor > 0n);
    if (open.length === 0) return null;
    const redemption = rng.pick(open);
    // Now and then more than is left: the refusal must leave no trace.
    const request = {
      idempotencyKey: key,
      transactionId: redemption.transactionId,
      amount: rng.chance(0.1) ? redemption.refundableMinor + 1n : rng.amount(1n, redemption.refundableMinor),
      currency: world.currency,
      sourceTransactionId: key,
    };
    return planned({
      operation: 'Refund',
      key,
      externalRef: key,
      // The money may now sit on a fixed card that reloads and combines have filled to the maximum
      // balance: the refund is then refused, and must leave no trace like any refusal.
      allowedRefusals: ['REFUND_EXCEEDS_REDEMPTION', 'BALANCE_LIMIT_EXCEEDED'],
      send: (api, settings) => api.refund(request, settings),
      // The credited card is the answer's: a refund follows the redeemed card's money to whichever
      // card holds it now (a combine's target, a deleting transfer's new card).
      acknowledge: (answer, w) => {
        redemption.refundableMinor = answer.refundableAmount;
        if (answer.redirected) w.redirectedRefunds++;
        return [
          { giftCardId: answer.giftCardId, deltaMinor: answer.refundedAmount, transactionId: answer.transactionId },
        ];
      },
    });
  },
};

export const balanceInquiry: WorkloadOperation = {
  name: 'BalanceInquiry',
  weight: 2,
  plan: (world, rng) => {
    const request = nameCard(world.fixedCard(rng), rng);
    return planned({
      operation: 'BalanceInquiry',
      key: null,
      externalRef: null,
      send: (api, settings) => api.balanceInquiry(request, settings),
      acknowledge: () => [],
    });
  },
};

/**
 * An operator's correction of a fixed card, credit or debit: money the checker must find accounted
 * for as adjusted, neither lost nor doubled, like any other flow.
 */
export const adjustBalance: WorkloadOperation = {
  name: 'AdjustBalance',
  weight: 1,
  plan: (world, rng, key) => {
    const card = rng.pick(world.cards);
    const magnitude = rng.amount(1n, 2_000n);
    const amount = rng.chance(0.5) ? magnitude : -magnitude;
    const request = {
      idempotencyKey: key,
      giftCardId: card.giftCardId,
      amount,
      currency: world.currency,
      reason: AdjustmentReason.ADJUSTMENT_REASON_SYSTEM_ERROR,
      note: `fault workload ${key}`,
    };
    return planned({
      operation: 'AdjustBalance',
      key,
      // An adjustment carries no caller reference: its key's operation leads to its entry.
      externalRef: null,
      allowedRefusals: ['INSUFFICIENT_FUNDS', 'BALANCE_LIMIT_EXCEEDED'],
      send: (api, settings) => api.adjustBalance(request, settings),
      acknowledge: (answer) => [
        { giftCardId: card.giftCardId, deltaMinor: amount, transactionId: answer.transactionId },
      ],
    });
  },
};

/** Every money operation, the read, the gift that moves a card without moving money, holds and reversals. */
export const OPERATIONS: readonly WorkloadOperation[] = [
  issueVirtualCard,
  reload,
  redeem,
  refund,
  balanceInquiry,
  adjustBalance,
  balanceTransfer,
  deletingTransfer,
  giftNewCard,
  giftExistingCard,
  combineCards,
  authorizeRedemption,
  captureHold,
  voidHold,
  reverseOperation,
  reversalRacingOriginal,
  reversalBeforeOriginal,
  originalAfterReversal,
];
