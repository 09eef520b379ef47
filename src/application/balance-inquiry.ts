import type { CardStatus } from '../domain/gift-card';
import type { Minor } from '../domain/money';
import { lockReferencedCard, type CardReference } from './card-reference';
import { accepted, rejected } from './outcome';
import type { AppContext } from './ports';

export interface BalanceView {
  readonly giftCardId: string;
  readonly numberLast4: string;
  readonly balanceMinor: Minor;
  readonly currency: string;
  readonly status: CardStatus;
  readonly expiresAt: Date | null;
}

/**
 * Reads the balance. It still runs in a locking transaction because a passcode check must count
 * a wrong guess atomically, exactly as a money-moving call does.
 */
export async function balanceInquiry(ctx: AppContext, card: CardReference): Promise<BalanceView> {
  const outcome = await ctx.uow.run(async (tx) => {
    const located = await lockReferencedCard(ctx, tx, card);
    if (!located.ok) return rejected<BalanceView>(located.error);
    const { publicId, numberLast4, balanceMinor, currency, status, expiresAt } = located.value;
    return accepted<BalanceView>({ giftCardId: publicId, numberLast4, balanceMinor, currency, status, expiresAt });
  });
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
