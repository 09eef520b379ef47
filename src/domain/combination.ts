import { DomainError, ErrorReason } from './errors';
import {
  assertNoHoldsOutstanding,
  assertSpendable,
  CardStatus,
  CardUse,
  credit,
  retire,
  type GiftCard,
} from './gift-card';
import type { Minor } from './money';

/**
 * Sources one combine may empty. It bounds the row locks one database transaction holds (one per
 * card) and so how long other operations on those cards can wait; 20 covers any real wallet.
 */
export const MAX_COMBINE_SOURCES = 20;

/** One source emptied into the target, in the order the caller listed the sources. */
export interface CombineStep {
  /** The source after the combine: COMBINED, balance zero, the target as its successor. */
  readonly source: GiftCard;
  /** What the source gave; zero for a source that was already empty. */
  readonly amountMinor: Minor;
  /** The target after this source's balance arrived. */
  readonly target: GiftCard;
}

export interface Combination {
  readonly target: GiftCard;
  readonly steps: readonly CombineStep[];
}

/** Adds the card's public id to a refusal, so a caller combining many cards learns which one. */
function aboutCard<T>(card: GiftCard, rule: () => T): T {
  try {
    return rule();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    throw new DomainError(error.reason, error.message, { ...error.metadata, giftCardId: card.publicId });
  }
}

/**
 * Moves every source's balance to the target. All-or-nothing: every card must be spendable and
 * in the target's currency, no source may have active holds (they were promised its money; the
 * target's holds stay as they are), and the target must stay within the maximum balance, or
 * nothing is decided. An empty source is allowed: it is retired like the others, so refunds of what was
 * once spent from it follow it to the target.
 */
export function combine(
  target: GiftCard,
  sources: readonly GiftCard[],
  maxBalanceMinor: Minor,
  now: Date,
): Combination {
  // The transport refuses these with field violations; reaching here with them is our bug.
  if (sources.length === 0 || sources.length > MAX_COMBINE_SOURCES) {
    throw new Error(`a combine takes 1 to ${MAX_COMBINE_SOURCES} sources, got ${sources.length}`);
  }
  if (new Set([target.id, ...sources.map((s) => s.id)]).size !== sources.length + 1) {
    throw new Error('combine sources must be distinct and must not include the target');
  }
  aboutCard(target, () => {
    assertSpendable(target, now, CardUse.COMBINE);
  });
  for (const source of sources) {
    aboutCard(source, () => {
      assertSpendable(source, now, CardUse.COMBINE);
    });
    assertNoHoldsOutstanding(source);
    if (source.currency !== target.currency) {
      throw new DomainError(
        ErrorReason.CURRENCY_MISMATCH,
        `source card is in ${source.currency}, the target is in ${target.currency}`,
        { giftCardId: source.publicId, sourceCurrency: source.currency, targetCurrency: target.currency },
      );
    }
  }
  let running = target;
  const steps = sources.map((source) => {
    running = aboutCard(target, () => credit(running, source.balanceMinor, maxBalanceMinor));
    return {
      source: retire(source, CardStatus.COMBINED, target.id),
      amountMinor: source.balanceMinor,
      target: running,
    };
  });
  return { target: running, steps };
}
