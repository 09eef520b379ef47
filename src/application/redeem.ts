import { assertSpendable, availableMinor } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import { assertSameCurrency, type Minor } from '../domain/money';
import { redeem as takeFromCard } from '../domain/redemption';
import { lockReferencedCard, type CardReference } from './card-reference';
import { runOnce } from './idempotency';
import { saveAndPost } from './ledger-posting';
import { accepted, rejected } from './outcome';
import type { AppContext } from './ports';

export interface RedeemCommand {
  readonly idempotencyKey: string;
  readonly card: CardReference;
  readonly amountMinor: Minor;
  readonly currency: string;
  readonly orderId: string | null;
  readonly allowPartial: boolean;
}

export interface RedeemResult {
  readonly transactionId: string;
  readonly giftCardId: string;
  readonly redeemedMinor: Minor;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
  readonly partial: boolean;
}

export function redeem(ctx: AppContext, command: RedeemCommand): Promise<RedeemResult> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'Redeem', key: idempotencyKey, payload }, async (tx, claim) => {
    // Lock before reading the balance: two concurrent redemptions must not both see the old value.
    const located = await lockReferencedCard(ctx, tx, command.card);
    if (!located.ok) return rejected(located.error);
    const operationId = await claim();
    const { card, now } = located.value;
    assertSpendable(card, now);
    assertSameCurrency(card.currency, command.currency);
    const redemption = takeFromCard(card, command.amountMinor, command.allowPartial);
    const entry = await saveAndPost(tx, {
      card: redemption.card,
      type: EntryType.REDEEM,
      amountMinor: -redemption.takenMinor,
      operationId,
      externalRef: command.orderId,
      now,
    });
    return accepted({
      transactionId: entry.publicId,
      giftCardId: redemption.card.publicId,
      redeemedMinor: redemption.takenMinor,
      balanceMinor: redemption.card.balanceMinor,
      availableMinor: availableMinor(redemption.card),
      currency: redemption.card.currency,
      partial: redemption.partial,
    });
  });
}
