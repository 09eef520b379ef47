import type { CallSettings, GiftCardApi } from '../../support/api';
import type { Rng } from './random';
import type { WorkloadWorld } from './world';

/**
 * One balance change an acknowledged call reports: one ledger entry on one card. The answer
 * names the entry, or, where it names only the operation (a combine's credits to its target),
 * the operation id the entry carries: the checker then finds the entry among that operation's by
 * card and amount, each entry answering one effect only.
 */
export type BalanceEffect = {
  readonly giftCardId: string;
  readonly deltaMinor: bigint;
} & (
  | {
      /** The entry's public id (the wire's transactionId). */
      readonly transactionId: string;
    }
  | {
      readonly transactionId: null;
      readonly operationId: string;
    }
);

/** What a reversal's answer said about the key it names. */
export interface ReversalNote {
  readonly key: string;
  /** REVERSED: a call with the key had been applied; NOT_FOUND: none had. */
  readonly found: boolean;
}

/** A call ready to send, and how to read its answer. */
export interface PlannedCall {
  readonly operation: string;
  /**
   * The key the call claims. Null for calls that claim none: reads (inquiry), and reversals, which
   * name another call's key in their request and their reversal note.
   */
  readonly key: string | null;
  /**
   * The reference the call's ledger entries carry (its source transaction or order id). The
   * workload sets it to the idempotency key, so the checker can count each call's entries.
   * Null for an operation that records none (transfer, combine): its entries are then found
   * through the transaction and operation ids its answer names.
   */
  readonly externalRef: string | null;
  /** Refusals the rules allow for this call in this workload, by ErrorInfo reason. */
  readonly allowedRefusals: readonly string[];
  /** Told once the call has its last answer, its replay included. */
  readonly settled?: () => void;
  send(api: GiftCardApi, settings: CallSettings): Promise<unknown>;
  /** What an acknowledged answer says changed; may teach the world (a redemption to refund). */
  acknowledge(response: unknown, world: WorkloadWorld): readonly BalanceEffect[];
  /** A reversal reads from its answer what it found for the key it names. */
  readonly reversalOf?: (response: unknown) => ReversalNote;
  /**
   * Sent with a key a reversal reserved before the call: the service must refuse it with
   * OPERATION_REVERSED and apply nothing; that refusal is this call's success.
   */
  readonly afterReversal?: boolean;
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
  /**
   * A call for the world as it is, or null when it offers nothing to do (no redemption yet); or
   * several calls the client sends at once (a reversal racing its original).
   */
  plan(world: WorkloadWorld, rng: Rng, key: string): PlannedCall | readonly PlannedCall[] | null;
}

/** Keeps each row type-safe: the answer `acknowledge` reads is the one `send` returned. */
export function planned<Res>(call: {
  operation: string;
  key: string | null;
  externalRef: string | null;
  allowedRefusals?: readonly string[];
  settled?: () => void;
  send: (api: GiftCardApi, settings: CallSettings) => Promise<Res>;
  acknowledge: (response: Res, world: WorkloadWorld) => readonly BalanceEffect[];
  reversalOf?: (response: Res) => ReversalNote;
  afterReversal?: boolean;
}): PlannedCall {
  const { reversalOf } = call;
  return {
    allowedRefusals: [],
    ...call,
    acknowledge: (response, world) => call.acknowledge(response as Res, world),
    reversalOf: reversalOf === undefined ? undefined : (response) => reversalOf(response as Res),
  };
}
