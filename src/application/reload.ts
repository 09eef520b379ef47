import { assertSpendable, availableMinor, credit } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import { assertSameCurrency, type Minor } from '../domain/money';
import { lockReferencedCard, type CardReference } from './card-reference';
import { runOnce } from './idempotency';
import { saveAndPost } from './ledger-posting';
import { accepted, rejected } from './outcome';
import type { AppContext } from './ports';

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
  return runOnce(ctx, { operation: 'Reload', key: idempotencyKey, payload }, async (tx, claim) => {
    const located = await lockReferencedCard(ctx, tx, command.card);
    if (!located.ok) return rejected(located.error);
    const operationId = await claim();
    const { now } = located.value;
    assertSpendable(located.value.card, now);
    assertSameCurrency(located.value.card.currency, command.currency);
    const card = credit(located.value.card, command.amountMinor, ctx.limits.maxBalanceMinor);
    const entry = await saveAndPost(tx, {
      card,
      type: EntryType.RELOAD,
      amountMinor: command.amountMinor,
      operationId,
      externalRef: command.sourceTransactionId,
      now,
    });
    return accepted({
      transactionId: entry.publicId,
      giftCardId: card.publicId,
      balanceMinor: card.balanceMinor,
      availableMinor: availableMinor(card),
      currency: card.currency,
    });
  });
}
