import { randomUUID } from 'node:crypto';
import { currentKeyScope } from '../call-caller';
import { cardNotFound, DomainError, sourceTransactionUsed } from '../domain/errors';
import { hasLapsedHolds, type GiftCard } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import { hasPasscodeFailures, isLockedOut, passcodeLocked } from '../domain/passcode-lockout';
import type { CardLine } from './card-batch';
import { entryOf, recordOf, type Decide, type DecideRefund, type Posted } from './card-decision';
import { balanceChanged } from './card-events';
import { judgeWrongGuess, lockReferencedCard, passcodeOpens, type CardReference } from './card-reference';
import { fingerprintOf, replay, runOnce, type IdempotentRequest, type RequestFingerprint } from './idempotency';
import { saveAndPost } from './ledger-posting';
import { accepted, rejected } from './outcome';
import {
  FundingReferenceUsed,
  type AppContext,
  type CardTransaction,
  type CardWrite,
  type ReferenceLookup,
  type ScopedKey,
} from './ports';

export type { Decide, DecideRefund, Posted } from './card-decision';

/** The card has lapsed holds to record, which only the unit of work's path does. */
const UNIT_OF_WORK = Symbol('unit of work');

/**
 * Runs a single-card balance change exactly once per key, in its card's line (card-lines.ts):
 * by itself when the card is idle, else batched with the calls that arrived meanwhile. By itself
 * it goes in two round trips (CardPath) unless the card has lapsed holds to record first, which
 * the unit of work's path does. All apply the same rule, `decide`, and judge the caller the same way.
 */
export function changeOneCard<R>(
  ctx: AppContext,
  request: IdempotentRequest,
  reference: CardReference,
  decide: Decide<R>,
): Promise<R> {
  const lookup = lookupOf(ctx, reference);
  const line = lineOf(lookup);
  const fingerprint = fingerprintOf(ctx, request);
  if (request.key === null) return changeAlone(ctx, line, fingerprint, null, reference, decide);
  const key: ScopedKey = { scope: currentKeyScope(), key: request.key };
  return ctx.cardLines.run(ctx, line, { kind: 'change', request, key, fingerprint, reference, decide }, () =>
    changeAlone(ctx, line, fingerprint, key, reference, decide),
  );
}

async function changeAlone<R>(
  ctx: AppContext,
  line: CardLine,
  fingerprint: RequestFingerprint,
  key: ScopedKey | null,
  reference: CardReference,
  decide: Decide<R>,
): Promise<R> {
  const made: { redemption: string | null } = { redemption: null };
  const noted: Decide<R> = (card, now, entryId) => {
    const posted = decide(card, now, entryId);
    made.redemption = posted.type === EntryType.REDEEM ? entryId : null;
    return posted;
  };
  const fast = await inTwoRoundTrips(ctx, line.lookup, fingerprint, key, reference, noted);
  const reply = fast !== UNIT_OF_WORK ? fast : await throughUnitOfWork(ctx, fingerprint.request, reference, noted);
  // Its refunds join the card's line; an id noted for a call that then replayed names nothing.
  if (made.redemption !== null) ctx.cardLines.remember(made.redemption, line);
  return reply;
}

/**
 * Reads a card through its locking read (a wrong passcode must be judged under the lock, as a
 * balance change judges it), in its card's line; UNIT_OF_WORK when the card has lapsed holds.
 */
export function readOneCard<R>(
  ctx: AppContext,
  reference: CardReference,
  view: (card: GiftCard) => R,
): Promise<R | typeof UNIT_OF_WORK> {
  const lookup = lookupOf(ctx, reference);
  const alone = (): Promise<R | typeof UNIT_OF_WORK> =>
    ctx.cardPath.run(lookup, async (tx) => {
      const card = await admit(ctx, reference, lookup, tx, ctx.clock.now());
      if (card === UNIT_OF_WORK) return UNIT_OF_WORK;
      await tx.commitRead(streakToClear(lookup, tx));
      return view(card);
    });
  return ctx.cardLines.run(ctx, lineOf(lookup), { kind: 'read', reference, view }, alone);
}

export { UNIT_OF_WORK };

function lookupOf(ctx: AppContext, reference: CardReference): ReferenceLookup {
  return reference.kind === 'saved'
    ? { kind: 'saved', publicId: reference.giftCardId, userId: reference.userId }
    : { kind: 'number', numberHash: ctx.secrets.numberHash(reference.cardNumber) };
}

/** Calls naming a card the same way share its line; a saved card's is its user's, whose access the read checks. */
function lineOf(lookup: ReferenceLookup): CardLine {
  const id =
    lookup.kind === 'number'
      ? `number:${Buffer.from(lookup.numberHash).toString('base64')}`
      : `saved:${lookup.publicId}:${lookup.userId}`;
  return { id, lookup };
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
  lookup: ReferenceLookup,
  fingerprint: RequestFingerprint,
  key: ScopedKey | null,
  reference: CardReference,
  decide: Decide<R>,
): Promise<R | typeof UNIT_OF_WORK> {
  return ctx.cardPath.run(lookup, async (tx) => {
    // Read after the lock was granted, as settleLocked does: no decision predates a change already made.
    const now = ctx.clock.now();
    const card = await admit(ctx, reference, lookup, tx, now);
    if (card === UNIT_OF_WORK) return UNIT_OF_WORK;
    return decideAndCommit(ctx, tx, fingerprint, key, now, streakToClear(lookup, tx), (entryId) =>
      decide(card, now, entryId),
    );
  });
}

/**
 * A refund of a redemption: in the line of the redeemed card when this process made the
 * redemption, else by itself; by itself in two round trips when the redeemed card still holds
 * its money and has nothing to settle, otherwise (a card that passed its balance on, an unknown
 * entry, lapsed holds) `general`, the unit of work's path.
 */
export function refundRedemption<R>(
  ctx: AppContext,
  request: IdempotentRequest,
  entryPublicId: string,
  decide: DecideRefund<R>,
  general: () => Promise<R>,
): Promise<R> {
  const fingerprint = fingerprintOf(ctx, request);
  const key: ScopedKey | null = request.key === null ? null : { scope: currentKeyScope(), key: request.key };
  const alone = async (): Promise<R> => {
    const fast = await refundInTwoRoundTrips(ctx, fingerprint, key, entryPublicId, decide);
    return fast !== UNIT_OF_WORK ? fast : general();
  };
  const line = ctx.cardLines.lineOfRedemption(entryPublicId);
  if (line === undefined || key === null) return alone();
  return ctx.cardLines.run(ctx, line, { kind: 'refund', request, key, fingerprint, entryPublicId, decide }, alone);
}

function refundInTwoRoundTrips<R>(
  ctx: AppContext,
  fingerprint: RequestFingerprint,
  key: ScopedKey | null,
  entryPublicId: string,
  decide: DecideRefund<R>,
): Promise<R | typeof UNIT_OF_WORK> {
  return ctx.cardPath.run({ kind: 'redemption', entryPublicId }, async (tx) => {
    const { redemption, card } = tx.read;
    const now = ctx.clock.now();
    if (redemption === null || card === null || card.successorCardId !== null || hasLapsedHolds(card, now)) {
      await tx.rollback(null);
      return UNIT_OF_WORK;
    }
    return decideAndCommit(ctx, tx, fingerprint, key, now, null, (entryId) =>
      decide(redemption.entry, redemption.givenBackMinor, card, now, entryId),
    );
  });
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
  fingerprint: RequestFingerprint,
  key: ScopedKey | null,
  now: Date,
  clearFailuresOf: Uint8Array | null,
  decide: (entryId: string) => Posted<R>,
): Promise<R> {
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
  const entry = entryOf(posted, entryId, operationId, now);
  const write: CardWrite = {
    records: key === null ? [] : [recordOf(ctx, key, fingerprint, operationId, now, posted.reply)],
    card: posted.card,
    entries: [entry],
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
