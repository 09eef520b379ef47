import { cardNotFound, invalidCardCredentials, type DomainError } from '../domain/errors';
import type { GiftCard } from '../domain/gift-card';
import {
  countFailedPasscode,
  hasPasscodeFailures,
  isLockedOut,
  passcodeLocked,
  type PasscodeFailures,
} from '../domain/passcode-lockout';
import { settleLapsedHolds, settleLocked, type LockedCard } from './lapsed-holds';
import { accepted, rejected, type Outcome } from './outcome';
import type { AppContext, TransactionScope } from './ports';

/** How a caller names an existing card (SPEC §2): its credentials, or a saved card and a user. */
export type CardReference =
  | { readonly kind: 'credentials'; readonly cardNumber: string; readonly passcode: string }
  | { readonly kind: 'saved'; readonly giftCardId: string; readonly userId: string };

/**
 * Stands in for a card's public id when the number is unknown: the same length, so verifying
 * against no card hashes exactly as much as verifying against one.
 */
const NO_CARD_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Whether the passcode opens the card its number found. An unknown number is verified against
 * NO_CARD_ID and no hash, so a guess at a number that does not exist costs what one at a card does.
 * Both paths (lockReferencedCard and the single-card path) judge passcodes with this one check.
 */
export function passcodeOpens(ctx: AppContext, card: GiftCard | null, passcode: string): card is GiftCard {
  const right = ctx.secrets.verifyPasscode(card?.publicId ?? NO_CARD_ID, passcode, card?.passcodeHash ?? null);
  return right && card !== null;
}

/** What a wrong passcode (or an unknown number) earns, and the failures to store, null when none change. */
export interface WrongGuess {
  readonly error: DomainError;
  readonly failures: PasscodeFailures | null;
}

/**
 * Counts a wrong guess against the number's failures, read under the number's own lock by a
 * transaction shielded from the call's deadline (both paths do so), so every judged guess counts.
 */
export function judgeWrongGuess(ctx: AppContext, locked: PasscodeFailures, now: Date): WrongGuess {
  const { lockout } = ctx.limits;
  const counted = countFailedPasscode(locked, now, lockout);
  // Not judged: a concurrent guess at the number locked it since the first read.
  if (!counted.judged) return { error: passcodeLocked(lockout, now), failures: null };
  if (isLockedOut(counted.failures, now)) ctx.telemetry.passcodeLockout();
  return { error: invalidCardCredentials(), failures: counted.failures };
}

/**
 * Locks the named card (SELECT ... FOR UPDATE), checks the caller may use it, and settles its
 * lapsed holds (application/lapsed-holds.ts). Every caller takes it before claiming its idempotency
 * key, so no replay is answered before the passcode is checked and counted.
 *
 * Wrong passcodes are counted per number hash, known or not (issue 10): an unknown number
 * locks after the same number of guesses, at the same cost, with the same answers. A wrong
 * passcode is returned as a rejection, not thrown, so the transaction commits its count, and the
 * transaction is shielded from the call's deadline first, so no cut-off can roll a judged guess back.
 */
export async function lockReferencedCard(
  ctx: AppContext,
  tx: TransactionScope,
  reference: CardReference,
): Promise<Outcome<LockedCard>> {
  if (reference.kind === 'saved') {
    const card = await tx.cards.lockByPublicId(reference.giftCardId);
    if (card === null || (await tx.access.find(card.id, reference.userId)) === null) {
      return rejected(cardNotFound());
    }
    return accepted(await settleLocked(ctx, tx, card));
  }
  const numberHash = ctx.secrets.numberHash(reference.cardNumber);
  const card = await tx.cards.lockByNumberHash(numberHash);
  const failures = await tx.passcodeFailures.find(numberHash);
  const now = ctx.clock.now();
  const { lockout } = ctx.limits;
  if (isLockedOut(failures, now)) return rejected(passcodeLocked(lockout, now));
  if (!passcodeOpens(ctx, card, reference.passcode)) {
    tx.shieldFromDeadline();
    // Counted under the number's own lock: for an unknown number nothing else orders the guesses.
    const guess = judgeWrongGuess(ctx, await tx.passcodeFailures.lock(numberHash), now);
    if (guess.failures !== null) await tx.passcodeFailures.save(numberHash, guess.failures);
    return rejected(guess.error);
  }
  if (hasPasscodeFailures(failures)) await tx.passcodeFailures.clear(numberHash);
  return accepted({ card: await settleLapsedHolds(tx, card, now), now });
}
