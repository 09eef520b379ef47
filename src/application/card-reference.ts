import { cardNotFound, invalidCardCredentials } from '../domain/errors';
import type { GiftCard } from '../domain/gift-card';
import { isLockedOut, passcodeLocked, recordFailedPasscode, recordGoodPasscode } from '../domain/passcode-lockout';
import { accepted, rejected, type Outcome } from './outcome';
import type { AppContext, TransactionScope } from './ports';

/** How a caller names an existing card (SPEC §2): its credentials, or a saved card and a user. */
export type CardReference =
  | { readonly kind: 'credentials'; readonly cardNumber: string; readonly passcode: string }
  | { readonly kind: 'saved'; readonly giftCardId: string; readonly userId: string };

/**
 * Locks the named card (SELECT ... FOR UPDATE) and checks the caller may use it.
 *
 * A wrong passcode is returned as a rejection, not thrown, so the transaction commits the failed
 * attempt: the count must survive the failed call, and counting under the row lock means parallel
 * guesses cannot slip past the limit.
 */
export async function lockReferencedCard(
  ctx: AppContext,
  tx: TransactionScope,
  reference: CardReference,
): Promise<Outcome<GiftCard>> {
  if (reference.kind === 'saved') {
    const card = await tx.cards.lockByPublicId(reference.giftCardId);
    if (card === null || (await tx.access.find(card.id, reference.userId)) === null) {
      return rejected(cardNotFound());
    }
    return accepted(card);
  }
  const card = await tx.cards.lockByNumberHash(ctx.secrets.numberHash(reference.cardNumber));
  const now = ctx.clock.now();
  if (card === null) {
    // Spend the same hashing work as for a real card, so timing does not tell the two apart.
    ctx.secrets.verifyPasscode('', reference.passcode, null);
    return rejected(invalidCardCredentials());
  }
  if (isLockedOut(card, now)) return rejected(passcodeLocked(card));
  if (!ctx.secrets.verifyPasscode(card.publicId, reference.passcode, card.passcodeHash)) {
    await tx.cards.save(recordFailedPasscode(card, now, ctx.limits.lockout), now);
    return rejected(invalidCardCredentials());
  }
  if (card.failedPasscodeAttempts === 0 && card.passcodeLockedUntil === null) return accepted(card);
  const reset = recordGoodPasscode(card);
  await tx.cards.save(reset, now);
  return accepted(reset);
}
