import type { OperationType } from '../../../gen/giftcard/v1/reversal';
import type { Rng } from './random';

/** A card of the workload's fixed set, named either way a caller may name it (SPEC §2). */
export interface WorkloadCard {
  readonly giftCardId: string;
  readonly cardNumber: string;
  readonly passcode: string;
  /** Owns the card, so the saved-card form works too. */
  readonly userId: string;
}

/**
 * A card a transfer or a gift created for one of the fixed cards' owners: money that can be
 * spent, moved on (a deleting transfer), handed to another owner (a gift) or combined back into a
 * fixed card. Only these cards are ever retired or change hands, so the fixed set stays ACTIVE and
 * owned by its users for the whole run.
 */
export interface SpareCard {
  readonly giftCardId: string;
  readonly cardNumber: string;
  readonly passcode: string;
  /**
   * Who owns it, as the last acknowledged answer about it said. Calls in flight may still change
   * that, so a call relying on it lists the refusals a stale owner gets.
   */
  ownerUserId: string;
  /**
   * Whether its number and passcode still work, as the acknowledged answers tell: a gift gives the
   * card new ones nobody is shown (SPEC §10), so after it the spare is named only as a saved card.
   */
  credentialsLive: boolean;
  /**
   * Calls naming it by its credentials, in flight (retries and replays included). A gift, which
   * gives it new credentials, waits until there are none, and no such call starts while a gift of
   * it is in flight: a call resent after the gift would meet the new credentials' refusal, which
   * a resend must earn by its passcode before its key's first answer is looked at (issue 10), and
   * then nobody could tell whether its first send applied. reissue-credentials.spec.ts races the two.
   */
  callsByCredentials: number;
  giftInFlight: boolean;
}

/** A redemption some client saw succeed: what a refund may name. */
export interface Redemption {
  readonly transactionId: string;
  /** What is left to refund, as the last answer about it said. */
  refundableMinor: bigint;
}

/** A hold some client saw placed, until an answer says it was captured or released. */
export interface WorkloadHold {
  readonly holdId: string;
  readonly giftCardId: string;
  readonly amountMinor: bigint;
}

/** A call some client saw acknowledged, which a reversal may undo. */
export interface ReversibleCall {
  readonly operationType: OperationType;
  readonly key: string;
}

/** What the clients share: the cards, the redemptions to refund, every secret they were shown. */
export class WorkloadWorld {
  readonly cards: WorkloadCard[] = [];
  /** ACTIVE as far as the acknowledged answers tell; a retired card leaves this list. */
  readonly spares: SpareCard[] = [];
  readonly redemptions: Redemption[] = [];
  /** Open as far as the acknowledged answers tell; a call in flight may have closed one. */
  readonly holds: WorkloadHold[] = [];
  readonly reversible: ReversibleCall[] = [];
  /** Keys a reversal reserved before any call was sent with them: a late original must be refused. */
  readonly reservedKeys: string[] = [];
  /** Every key some reversal names; a replay of its call may meet OPERATION_REVERSED. */
  readonly reversalTargets = new Set<string>();
  /** Refunds that credited a successor of the redeemed card: the chain a combine or transfer leaves. */
  redirectedRefunds = 0;
  /** Card numbers and passcodes, to search the logs and the raw tables for. */
  readonly secrets = new Set<string>();
  readonly currency = 'USD';

  learnCard(card: { cardNumber: string; passcode: string }): void {
    this.secrets.add(card.cardNumber);
    this.secrets.add(card.passcode);
  }

  addSpare(card: { giftCardId: string; cardNumber: string; passcode: string }, ownerUserId: string): void {
    this.learnCard(card);
    this.spares.push({
      giftCardId: card.giftCardId,
      cardNumber: card.cardNumber,
      passcode: card.passcode,
      ownerUserId,
      credentialsLive: true,
      callsByCredentials: 0,
      giftInFlight: false,
    });
  }

  /**
   * A fixed card for a call on one card: the first one, the hot card, half of the time, so that
   * calls on it arrive while another is in flight and go in its batches (issue 12).
   */
  fixedCard(rng: Rng): WorkloadCard {
    const hot = this.cards[0];
    return hot !== undefined && rng.chance(0.5) ? hot : rng.pick(this.cards);
  }

  /** The spares a caller can still name by number and passcode. */
  sparesByCredentials(): SpareCard[] {
    return this.spares.filter((spare) => spare.credentialsLive && !spare.giftInFlight);
  }

  /** The spares a gift may take now: no call by their credentials in flight, no other gift. */
  giftableSpares(): SpareCard[] {
    return this.spares.filter((spare) => spare.callsByCredentials === 0 && !spare.giftInFlight);
  }

  /** Counts a call by the spare's credentials from now until it settles. */
  callByCredentials(spare: SpareCard): () => void {
    spare.callsByCredentials++;
    return () => {
      spare.callsByCredentials--;
    };
  }

  /** A spare an acknowledged call retired (COMBINED, DEACTIVATED): nothing can be done with it any more. */
  retireSpare(giftCardId: string): void {
    const index = this.spares.findIndex((spare) => spare.giftCardId === giftCardId);
    if (index >= 0) this.spares.splice(index, 1);
  }

  spareById(giftCardId: string): SpareCard | undefined {
    return this.spares.find((spare) => spare.giftCardId === giftCardId);
  }

  sparesOf(userId: string): SpareCard[] {
    return this.spares.filter((spare) => spare.ownerUserId === userId);
  }

  /** A hold an answer closed (captured, voided, reversed): nothing more can be done with it. */
  closeHold(holdId: string): void {
    const index = this.holds.findIndex((hold) => hold.holdId === holdId);
    if (index >= 0) this.holds.splice(index, 1);
  }

  /** A redemption a reversal gave back: refunds of it are refused from now on. */
  redemptionReversed(transactionId: string): void {
    const redemption = this.redemptions.find((r) => r.transactionId === transactionId);
    if (redemption !== undefined) redemption.refundableMinor = 0n;
  }
}
