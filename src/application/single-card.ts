import { randomUUID } from 'node:crypto';
import { currentKeyScope } from '../call-caller';
import { cardNotFound, DomainError, sourceTransactionUsed } from '../domain/errors';
import { availableMinor, hasLapsedHolds, type GiftCard } from '../domain/gift-card';
import type { EntryType, LedgerEntry, StoredLedgerEntry } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import { hasPasscodeFailures, isLockedOut, passcodeLocked } from '../domain/passcode-lockout';
import { balanceChanged } from './card-events';
import { judgeWrongGuess, lockReferencedCard, passcodeOpens, type CardReference } from './card-reference';
import { fingerprintOf, replay, runOnce, sealReply, type IdempotentRequest } from './idempotency';
import { saveAndPost } from './ledger-posting';
import { accepted, rejected } from './outcome';
import {
  FundingReferenceUsed,
  type AppContext,
  type CardLookup,
  type CardTransaction,
  type CardWrite,
  type ScopedKey,
} from './ports';

/** A balance change on one card as its rule decided it: the card after it, its entry, and the reply. */
export interface Posted<R> {
  readonly card: GiftCard;
  readonly type: EntryType;
  /** Signed: positive credits, negative debits. */
  readonly amountMinor: Minor;
  readonly externalRef: string | null;
  /** For a refund, the internal id of the redemption entry it gives back. */
  readonly refundOfEntryId?: bigint;
  readonly reply: R;
}

/**
 * An operation's rule, run against the card under its row lock, settled, at `now`. It refuses by
 * throwing a DomainError; `entryId` is the public id its entry will have (the reply names it).
 */
export type Decide<R> = (card: GiftCard, now: Date, entryId: string) => Posted<R>;

/** The card has lapsed holds to record, which only the unit of work's path does. */
const UNIT_OF_WORK = Symbol('unit of work');

/**
 * Runs a single-card balance change exactly once per key: in two round trips (CardPath) unless
 * the card has lapsed holds to record first, which the unit of work's path does. Both apply the
 * same rule, `decide`, and judge the caller the same way.
 */
export async function changeOneCard<R>(
  ctx: AppContext,
  request: IdempotentRequest,
  reference: CardReference,
  decide: Decide<R>,
): Promise<R> {
  const fast = await inTwoRoundTrips(ctx, request, reference, decide);
  return fast !== UNIT_OF_WORK ? fast : throughUnitOfWork(ctx, request, reference, decide);
}

/**
 * Reads a card through its locking read (a wrong passcode must be judged under the lock, as a
 * balance change judges it), in two round trips; UNIT_OF_WORK when the card has lapsed holds.
 */
export async function readOneCard<R>(
  ctx: AppContext,
  reference: CardReference,
  view: (card: GiftCard) => R,
): Promise<R | typeof UNIT_OF_WORK> {
  const lookup = lookupOf(ctx, reference);
  return ctx.cardPath.run(lookup, async (tx) => {
    const card = await admit(ctx, reference, lookup, tx, ctx.clock.now());
    if (card === UNIT_OF_WORK) return UNIT_OF_WORK;
    await tx.commitRead(streakToClear(lookup, tx));
    return view(card);
  });
}

export { UNIT_OF_WORK };

/** How a caller's reference is looked up: by the number's hash, or as a saved card of the user. */
type ReferenceLookup = Exclude<CardLookup, { readonly kind: 'redemption' }>;

function lookupOf(ctx: AppContext, reference: CardReference): ReferenceLookup {
  return reference.kind === 'saved'
    ? { kind: 'saved', publicId: reference.giftCardId, userId: reference.userId }
    : { kind: 'number', numberHash: ctx.secrets.numberHash(reference.cardNumber) };
}

/**
 * The card, when the caller may use it, judged as lockReferencedCard judges it: a saved card's
 * user must have access; a number must not be locked out, and its passcode is verified whether or
 * not the number exists (the same work either way). A wrong passcode is counted here, under the
 * number's own lock, shielded from the call's deadline and committed, so no judged guess goes
 * uncounted and no reply is read before the passcode was checked. A card with a lapsed hold to
 * record goes to the unit of work, which settles it first.
 */
async function admit(
  ctx: AppContext,
  reference: CardReference,
  lookup: ReferenceLookup,
  tx: CardTransaction,
  now: Date,
): Promise<GiftCard | typeof UNIT_OF_WORK> {
  const { card, failures, hasAccess } = tx.read;
  if (reference.kind === 'saved' || lookup.kind === 'saved') {
    if (card === null || !hasAccess) {
      await tx.rollback(null);
      throw cardNotFound();
    }
  } else {
    if (isLockedOut(failures, now)) {
      await tx.rollback(null);
      throw passcodeLocked(ctx.limits.lockout, now);
    }
    if (!passcodeOpens(ctx, card, reference.passcode)) {
      tx.shieldFromDeadline();
      const guess = judgeWrongGuess(ctx, await tx.lockFailures(lookup.numberHash), now);
      await tx.commitFailures(lookup.numberHash, guess.failures);
      throw guess.error;
    }
  }
  if (hasLapsedHolds(card, now)) {
    await tx.rollback(null);
    return UNIT_OF_WORK;
  }
  return card;
}

/** A right passcode ends the number's streak of wrong ones, as lockReferencedCard does. */
function streakToClear(lookup: ReferenceLookup, tx: CardTransaction): Uint8Array | null {
  return lookup.kind === 'number' && hasPasscodeFailures(tx.read.failures) ? lookup.numberHash : null;
}

/** The first round trip judges the caller; decideAndCommit does the rest. */
async function inTwoRoundTrips<R>(
  ctx: AppContext,
  request: IdempotentRequest,
  reference: CardReference,
  decide: Decide<R>,
): Promise<R | typeof UNIT_OF_WORK> {
  const lookup = lookupOf(ctx, reference);
  return ctx.cardPath.run(lookup, async (tx) => {
    // Read after the lock was granted, as settleLocked does: no decision predates a change already made.
    const now = ctx.clock.now();
    const card = await admit(ctx, reference, lookup, tx, now);
    if (card === UNIT_OF_WORK) return UNIT_OF_WORK;
    return decideAndCommit(ctx, tx, request, now, streakToClear(lookup, tx), (entryId) => decide(card, now, entryId));
  });
}

/** A refund's rule, against the locked redemption, what was given back of it, and its locked card. */
export type DecideRefund<R> = (
  redemption: StoredLedgerEntry,
  givenBackMinor: Minor,
  card: GiftCard,
  now: Date,
  entryId: string,
) => Posted<R>;

/**
 * A refund of a redemption, in two round trips when the redeemed card still holds its money and
 * has nothing to settle; otherwise (a card that passed its balance on, an unknown entry, lapsed
 * holds) `general`, the unit of work's path.
 */
export async function refundRedemption<R>(
  ctx: AppContext,
  request: IdempotentRequest,
  entryPublicId: string,
  decide: DecideRefund<R>,
  general: () => Promise<R>,
): Promise<R> {
  const fast = await ctx.cardPath.run({ kind: 'redemption', entryPublicId }, async (tx) => {
    const { redemption, card } = tx.read;
    const now = ctx.clock.now();
    if (redemption === null || card === null || card.successorCardId !== null || hasLapsedHolds(card, now)) {
      await tx.rollback(null);
      return UNIT_OF_WORK;
    }
    return decideAndCommit(ctx, tx, request, now, null, (entryId) =>
      decide(redemption.entry, redemption.givenBackMinor, card, now, entryId),
    );
  });
  return fast !== UNIT_OF_WORK ? fast : general();
}

/**
 * The second round trip and its answer. Exactly once (docs/reliability.md): the key's record, with
 * its sealed reply, is the first write, in the transaction of the change. A committed record of
 * the key makes its primary key refuse the insert before anything else is written; the path then
 * rolls back and replays it. A refusal by the rule commits nothing, and answers the key's stored
 * reply if there is one (a retry of a call that succeeded before the card ran dry), else the refusal.
 */
async function decideAndCommit<R>(
  ctx: AppContext,
  tx: CardTransaction,
  request: IdempotentRequest,
  now: Date,
  clearFailuresOf: Uint8Array | null,
  decide: (entryId: string) => Posted<R>,
): Promise<R> {
  const key: ScopedKey | null = request.key === null ? null : { scope: currentKeyScope(), key: request.key };
  const fingerprint = fingerprintOf(ctx, request);
  const entryId = randomUUID();
  let posted: Posted<R>;
  try {
    posted = decide(entryId);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const prior = await tx.rollback(key);
    if (prior !== null) return replay(ctx, prior, fingerprint) as R;
    throw error;
  }
  const operationId = randomUUID();
  const entry: LedgerEntry = {
    publicId: entryId,
    cardId: posted.card.id,
    operationId,
    type: posted.type,
    amountMinor: posted.amountMinor,
    balanceAfterMinor: posted.card.balanceMinor,
    availableAfterMinor: availableMinor(posted.card),
    currency: posted.card.currency,
    externalRef: posted.externalRef,
    refundOfEntryId: posted.refundOfEntryId ?? null,
    holdId: null,
    reversesEntryId: null,
    createdAt: now,
  };
  const write: CardWrite = {
    record:
      key === null
        ? null
        : {
            key,
            rpc: request.operation,
            fingerprint: fingerprint.current,
            operationId,
            now,
            expiresAt: new Date(now.getTime() + ctx.limits.idempotencyRetentionMs),
            reply: sealReply(ctx, posted.reply),
          },
    card: posted.card,
    entry,
    events: [balanceChanged(posted.card, entry)],
    clearFailuresOf,
    now,
  };
  let outcome: Awaited<ReturnType<CardTransaction['commit']>>;
  try {
    outcome = await tx.commit(write);
  } catch (error) {
    // The key's record went in first, so a funding reference used before is no replay of this key.
    if (error instanceof FundingReferenceUsed) throw sourceTransactionUsed(posted.externalRef ?? '');
    throw error;
  }
  if (outcome === 'committed') return posted.reply;
  if (outcome.taken === null) throw new Error('idempotency key reported taken but no record is stored');
  return replay(ctx, outcome.taken, fingerprint) as R;
}

/** The general path: the unit of work's repositories, one statement at a time, for every case. */
function throughUnitOfWork<R>(
  ctx: AppContext,
  request: IdempotentRequest,
  reference: CardReference,
  decide: Decide<R>,
): Promise<R> {
  return runOnce(ctx, request, async (tx, claim) => {
    // Lock before reading the balance: two concurrent changes must not both see the old value.
    const located = await lockReferencedCard(ctx, tx, reference);
    if (!located.ok) return rejected(located.error);
    const operationId = await claim();
    const { card, now } = located.value;
    const entryId = randomUUID();
    const posted = decide(card, now, entryId);
    await saveAndPost(tx, {
      card: posted.card,
      type: posted.type,
      amountMinor: posted.amountMinor,
      operationId,
      publicId: entryId,
      externalRef: posted.externalRef,
      now,
    });
    return accepted(posted.reply);
  });
}
