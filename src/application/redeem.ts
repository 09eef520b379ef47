import { assertSpendable, availableMinor, CardUse } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import { assertSameCurrency, type Minor } from '../domain/money';
import { redeem as takeFromCard } from '../domain/redemption';
import type { CardReference } from './card-reference';
import type { AppContext } from './ports';
import { changeOneCard } from './single-card';

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
  const request = { operation: 'Redeem', key: idempotencyKey, payload };
  return changeOneCard(ctx, request, command.card, (card, now, transactionId) => {
    assertSpendable(card, now, CardUse.REDEEM);
    assertSameCurrency(card.currency, command.currency);
    const redemption = takeFromCard(card, command.amountMinor, command.allowPartial);
    return {
      card: redemption.card,
      type: EntryType.REDEEM,
      amountMinor: -redemption.takenMinor,
      externalRef: command.orderId,
      reply: {
        transactionId,
        giftCardId: redemption.card.publicId,
        redeemedMinor: redemption.takenMinor,
        balanceMinor: redemption.card.balanceMinor,
        availableMinor: availableMinor(redemption.card),
        currency: redemption.card.currency,
        partial: redemption.partial,
      },
    };
  });
}
