import { assertStatusAdmits, CardUse, type CardStatus } from '../domain/gift-card';
import { cardNotFound } from '../domain/errors';
import type { Minor } from '../domain/money';
import { reissueCredentials as replaceCredentials } from './card-credentials';
import { assertOwnedBy } from './card-ownership';
import { lockReferencedCard, type CardReference } from './card-reference';
import { runOnce } from './idempotency';
import { settleLocked, type LockedCard } from './lapsed-holds';
import { accepted, rejected, type Outcome } from './outcome';
import type { AppContext, TransactionScope } from './ports';

export interface ReissueCredentialsCommand {
  readonly idempotencyKey: string;
  /** The owner by saved card (a user it is only shared with may not), or the current credentials. */
  readonly card: CardReference;
}

export interface ReissuedCard {
  readonly giftCardId: string;
  readonly cardNumber: string;
  readonly passcode: string;
  readonly status: CardStatus;
  readonly balanceMinor: Minor;
  readonly currency: string;
}

/**
 * The owner, or the holder of the credentials, proves they may have the card's new credentials
 * before anything else, the key's replay included: the key's first answer holds a number and
 * passcode, and a caller that replays it must be entitled to them now, as it was then.
 */
async function lockEntitledCard(
  ctx: AppContext,
  tx: TransactionScope,
  reference: CardReference,
): Promise<Outcome<LockedCard>> {
  if (reference.kind === 'credentials') return lockReferencedCard(ctx, tx, reference);
  const row = await tx.cards.lockByPublicId(reference.giftCardId);
  if (row === null) return rejected(cardNotFound());
  await assertOwnedBy(tx, row, reference.userId);
  return accepted(await settleLocked(ctx, tx, row));
}

/**
 * A new number and passcode for the same card (SPEC §10): for a lost card, or one whose
 * credentials someone else may know. Balance, holds, history and wallet stay as they are.
 */
export function reissueCredentials(ctx: AppContext, command: ReissueCredentialsCommand): Promise<ReissuedCard> {
  const { idempotencyKey, card: reference } = command;
  return runOnce(
    ctx,
    { operation: 'ReissueCredentials', key: idempotencyKey, payload: reference, verifyBeforeReplay: true },
    async (tx, claim) => {
      const located = await lockEntitledCard(ctx, tx, reference);
      if (!located.ok) return rejected(located.error);
      const operationId = await claim();
      const { card, now } = located.value;
      assertStatusAdmits(card, CardUse.REISSUE);
      const reissued = await replaceCredentials(ctx, tx, card, operationId, now);
      return accepted({
        giftCardId: card.publicId,
        cardNumber: reissued.cardNumber,
        passcode: reissued.passcode,
        status: card.status,
        balanceMinor: card.balanceMinor,
        currency: card.currency,
      });
    },
  );
}
