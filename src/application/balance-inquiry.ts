import { availableMinor, type CardStatus, type GiftCard } from '../domain/gift-card';
import type { Minor } from '../domain/money';
import { lockReferencedCard, type CardReference } from './card-reference';
import { accepted, rejected } from './outcome';
import type { AppContext } from './ports';
import { readOneCard, UNIT_OF_WORK } from './single-card';

export interface BalanceView {
  readonly giftCardId: string;
  readonly numberLast4: string;
  readonly balanceMinor: Minor;
  /** The balance less active holds: what the card can spend now. */
  readonly availableMinor: Minor;
  readonly currency: string;
  readonly status: CardStatus;
  readonly expiresAt: Date | null;
}

function viewOf(card: GiftCard): BalanceView {
  return {
    giftCardId: card.publicId,
    numberLast4: card.numberLast4,
    balanceMinor: card.balanceMinor,
    availableMinor: availableMinor(card),
    currency: card.currency,
    status: card.status,
    expiresAt: card.expiresAt,
  };
}

/**
 * Reads the balance. It still runs in a locking transaction because a passcode check must count
 * a wrong guess atomically, exactly as a money-moving call does; the lock also lets it record any
 * hold that expired since the card last changed. Those two cases take the unit of work's path.
 */
export async function balanceInquiry(ctx: AppContext, reference: CardReference): Promise<BalanceView> {
  const fast = await readOneCard(ctx, reference, viewOf);
  if (fast !== UNIT_OF_WORK) return fast;
  const outcome = await ctx.uow.run(async (tx) => {
    const located = await lockReferencedCard(ctx, tx, reference);
    if (!located.ok) return rejected<BalanceView>(located.error);
    return accepted(viewOf(located.value.card));
  });
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
