import { combine, type Combination } from '../domain/combination';
import { availableMinor, type GiftCard } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import { cardNotFound } from '../domain/errors';
import { statusChanged } from './card-events';
import { assertOwnedBy } from './card-ownership';
import { runOnce } from './idempotency';
import { settleLapsedHolds } from './lapsed-holds';
import { saveAndPost } from './ledger-posting';
import { accepted } from './outcome';
import type { AppContext, TransactionScope } from './ports';

export interface CombineCardsCommand {
  readonly idempotencyKey: string;
  readonly userId: string;
  readonly targetGiftCardId: string;
  /** Distinct, without the target; the transport checks both. */
  readonly sourceGiftCardIds: readonly string[];
}

export interface CombinedSourceResult {
  readonly giftCardId: string;
  readonly amountMinor: Minor;
  /** The COMBINE_OUT entry; null for a source that was empty and moved nothing. */
  readonly transactionId: string | null;
}

export interface CombineCardsResult {
  readonly giftCardId: string;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
  readonly sources: readonly CombinedSourceResult[];
  /** The operation id every ledger entry of this combine carries. */
  readonly transactionId: string;
}

const byId = (a: GiftCard, b: GiftCard): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Locks every named card in ascending internal id order. The ids come from plain reads (an id
 * never changes), and only the locked rows are used afterwards: two combines of the same cards,
 * whichever way round, queue on the same first lock instead of deadlocking. Once all are locked,
 * each is settled (application/lapsed-holds.ts) at one time, the time the combine happens at.
 */
async function lockInIdOrder(
  ctx: AppContext,
  tx: TransactionScope,
  publicIds: readonly string[],
): Promise<{ locked: Map<string, GiftCard>; now: Date }> {
  const found: GiftCard[] = [];
  for (const publicId of publicIds) {
    const card = await tx.cards.findByPublicId(publicId);
    if (card === null) throw cardNotFound();
    found.push(card);
  }
  const current: GiftCard[] = [];
  for (const card of found.sort(byId)) {
    const row = await tx.cards.lockById(card.id);
    if (row === null) throw new Error(`card ${card.id} vanished while being locked`);
    current.push(row);
  }
  const now = ctx.clock.now();
  const locked = new Map<string, GiftCard>();
  for (const card of current) locked.set(card.publicId, await settleLapsedHolds(tx, card, now));
  return { locked, now };
}

function lockedCard(locked: ReadonlyMap<string, GiftCard>, publicId: string): GiftCard {
  const card = locked.get(publicId);
  if (card === undefined) throw new Error(`card ${publicId} was not locked`);
  return card;
}

/** Writes each step: the source retired (COMBINE_OUT) and the target credited (COMBINE_IN). */
async function postSteps(
  tx: TransactionScope,
  combination: Combination,
  operationId: string,
  now: Date,
): Promise<CombinedSourceResult[]> {
  const results: CombinedSourceResult[] = [];
  for (const step of combination.steps) {
    if (step.amountMinor === 0n) {
      // Nothing to move, so no entry (the ledger holds no zero amounts); the card is still retired.
      await tx.cards.save(step.source, now);
      tx.outbox.add(statusChanged(step.source, operationId, now));
      results.push({ giftCardId: step.source.publicId, amountMinor: 0n, transactionId: null });
      continue;
    }
    const posting = { operationId, externalRef: null, now };
    const out = await saveAndPost(tx, {
      ...posting,
      card: step.source,
      type: EntryType.COMBINE_OUT,
      amountMinor: -step.amountMinor,
    });
    tx.outbox.add(statusChanged(step.source, operationId, now));
    await saveAndPost(tx, { ...posting, card: step.target, type: EntryType.COMBINE_IN, amountMinor: step.amountMinor });
    results.push({ giftCardId: step.source.publicId, amountMinor: step.amountMinor, transactionId: out.publicId });
  }
  return results;
}

export function combineCards(ctx: AppContext, command: CombineCardsCommand): Promise<CombineCardsResult> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'CombineCards', key: idempotencyKey, payload }, async (tx, claim) => {
    const { locked, now } = await lockInIdOrder(ctx, tx, [command.targetGiftCardId, ...command.sourceGiftCardIds]);
    const operationId = await claim();
    const target = lockedCard(locked, command.targetGiftCardId);
    const sources = command.sourceGiftCardIds.map((id) => lockedCard(locked, id));
    // Ownership first, so a card the user cannot see never answers with its state.
    await assertOwnedBy(tx, target, command.userId);
    let preferredSource: GiftCard | null = null;
    for (const source of sources) {
      if ((await assertOwnedBy(tx, source, command.userId)).preferred) preferredSource = source;
    }
    const combination = combine(target, sources, ctx.limits.maxBalanceMinor, now);
    const results = await postSteps(tx, combination, operationId, now);
    if (preferredSource !== null) {
      // The user's preferred card is empty now; the card that took its money takes its place.
      // Preferred flags change only under the user's access-row locks, as UpdateGiftCard takes them.
      await tx.access.lockAllOfUser(command.userId);
      await tx.access.setPreferred(preferredSource.id, command.userId, false);
      await tx.access.setPreferred(target.id, command.userId, true);
    }
    return accepted({
      giftCardId: combination.target.publicId,
      balanceMinor: combination.target.balanceMinor,
      availableMinor: availableMinor(combination.target),
      currency: combination.target.currency,
      sources: results,
      transactionId: operationId,
    });
  });
}
