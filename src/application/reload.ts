import { assertSpendable, availableMinor, CardUse, credit } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import { assertSameCurrency, type Minor } from '../domain/money';
import type { CardReference } from './card-reference';
import type { AppContext } from './ports';
import { changeOneCard } from './single-card';

export interface ReloadCommand {
  readonly idempotencyKey: string;
  readonly card: CardReference;
  readonly amountMinor: Minor;
  readonly currency: string;
  readonly sourceTransactionId: string;
}

export interface ReloadResult {
  readonly transactionId: string;
  readonly giftCardId: string;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
}

export function reload(ctx: AppContext, command: ReloadCommand): Promise<ReloadResult> {
  const { idempotencyKey, ...payload } = command;
  const request = { operation: 'Reload', key: idempotencyKey, payload };
  return changeOneCard(ctx, request, command.card, (locked, now, transactionId) => {
    assertSpendable(locked, now, CardUse.RELOAD);
    assertSameCurrency(locked.currency, command.currency);
    const card = credit(locked, command.amountMinor, ctx.limits.maxBalanceMinor);
    return {
      card,
      type: EntryType.RELOAD,
      amountMinor: command.amountMinor,
      externalRef: command.sourceTransactionId,
      reply: {
        transactionId,
        giftCardId: card.publicId,
        balanceMinor: card.balanceMinor,
        availableMinor: availableMinor(card),
        currency: card.currency,
      },
    };
  });
}
