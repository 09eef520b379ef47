import type { CallSettings, GiftCardApi } from '../../support/api';
import type { Rng } from './random';

/** A card of the workload's fixed set, named either way a caller may name it (SPEC §2). */
export interface WorkloadCard {
  readonly giftCardId: string;
  readonly cardNumber: string;
  readonly passcode: string;
  /** Owns the card, so the saved-card form works too. */
  readonly userId: string;
}

/** A redemption some client saw succeed: what a refund may name. */
export interface Redemption {
  readonly transactionId: string;
  /** What is left to refund, as the last answer about it said. */
  refundableMinor: bigint;
}

/** What the clients share: the fixed cards, the redemptions to refund, every secret they were shown. */
export class WorkloadWorld {
  readonly cards: WorkloadCard[] = [];
  readonly redemptions: Redemption[] = [];
  /** Card numbers and passcodes, to search the logs and the raw tables for. */
  readonly secrets = new Set<string>();
  readonly currency = 'USD';

  learnCard(card: { cardNumber: string; passcode: string }): void {
    this.secrets.add(card.cardNumber);
    this.secrets.add(card.passcode);
  }
}

/** One balance change an acknowledged call reports: one ledger entry on one card. */
export interface BalanceEffect {
  readonly giftCardId: string;
  readonly deltaMinor: bigint;
  /**
   * The entry's public id, when the answer names it. An effect without one (a transfer's far side)
   * is still held against the card's balance, and its entry is accounted for through the
   * operation id it shares with an entry the answer does name.
   */
  readonly transactionId: string | null;
}

/** A call ready to send, and how to read its answer. */
export interface PlannedCall {
  readonly operation: string;
  /** Null for calls that change nothing (inquiry): retrying them needs no key. */
  readonly key: string | null;
  /**
   * The reference the call's ledger entries carry (its source transaction or order id). The
   * workload sets it to the idempotency key, so the checker can count each call's entries.
   * Null for an operation that records none: its entries are then found by transaction id.
   */
  readonly externalRef: string | null;
  /** Refusals the rules allow for this call in this workload, by ErrorInfo reason. */
  readonly allowedRefusals: readonly string[];
  send(api: GiftCardApi, settings: CallSettings): Promise<unknown>;
  /** What an acknowledged answer says changed; may teach the world (a redemption to refund). */
  acknowledge(response: unknown, world: WorkloadWorld): readonly BalanceEffect[];
}

/**
 * One row of the operation table. Adding an operation to the workload is one more row: choose
 * its cards from the world, build the request with the key as its external reference, and read
 * the balance changes off the answer.
 */
export interface WorkloadOperation {
  readonly name: string;
  /** Relative frequency in the mix. */
  readonly weight: number;
  /** A call for the world as it is, or null when it offers nothing to do (no redemption yet). */
  plan(world: WorkloadWorld, rng: Rng, key: string): PlannedCall | null;
}

/** Keeps each row type-safe: the answer `acknowledge` reads is the one `send` returned. */
function planned<Res>(call: {
  operation: string;
  key: string | null;
  externalRef: string | null;
  allowedRefusals?: readonly string[];
  send: (api: GiftCardApi, settings: CallSettings) => Promise<Res>;
  acknowledge: (response: Res, world: WorkloadWorld) => readonly BalanceEffect[];
}): PlannedCall {
  return {
    allowedRefusals: [],
    ...call,
    acknowledge: (response, world) => call.acknowledge(response as Res, world),
  };
}

/**
 * Most calls name the card by number and passcode, some as a saved card of its owner. Chosen once
 * per call: a retry must send exactly the same request, or its key would be refused as reused.
 */
function nameCard(card: WorkloadCard, rng: Rng) {
  return rng.chance(0.3)
    ? { giftCardId: card.giftCardId, userId: card.userId }
    : { cardNumber: card.cardNumber, passcode: card.passcode };
}

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
        return [{ giftCardId: card.giftCardId, deltaMinor: card.balance, transactionId: card.transactionId }];
      },
    });
  },
};

export const reload: WorkloadOperation = {
  name: 'Reload',
  weight: 3,
  plan: (world, rng, key) => {
    const amount = rng.amount(1n, 3_000n);
    const request = {
      idempotencyKey: key,
      ...nameCard(rng.pick(world.cards), rng),
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
      acknowledge: (answer) => [
        { giftCardId: answer.giftCardId, deltaMinor: amount, transactionId: answer.transactionId },
      ],
    });
  },
};

export const redeem: WorkloadOperation = {
  name: 'Redeem',
  weight: 4,
  plan: (world, rng, key) => {
    const request = {
      idempotencyKey: key,
      ...nameCard(rng.pick(world.cards), rng),
      amount: rng.amount(1n, 4_000n),
      currency: world.currency,
      orderId: key,
      allowPartial: rng.chance(0.25),
    };
    return planned({
      operation: 'Redeem',
      key,
      externalRef: key,
      allowedRefusals: ['INSUFFICIENT_FUNDS'],
      send: (api, settings) => api.redeem(request, settings),
      acknowledge: (answer, w) => {
        w.redemptions.push({ transactionId: answer.transactionId, refundableMinor: answer.redeemedAmount });
        return [
          { giftCardId: answer.giftCardId, deltaMinor: -answer.redeemedAmount, transactionId: answer.transactionId },
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
      allowedRefusals: ['REFUND_EXCEEDS_REDEMPTION'],
      send: (api, settings) => api.refund(request, settings),
      acknowledge: (answer) => {
        redemption.refundableMinor = answer.refundableAmount;
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
    const request = nameCard(rng.pick(world.cards), rng);
    return planned({
      operation: 'BalanceInquiry',
      key: null,
      externalRef: null,
      send: (api, settings) => api.balanceInquiry(request, settings),
      acknowledge: () => [],
    });
  },
};

/** Every money operation built so far, and the read. */
export const OPERATIONS: readonly WorkloadOperation[] = [issueVirtualCard, reload, redeem, refund, balanceInquiry];
