import { currentCallerName } from '../call-caller';
import { adjust, type AdjustmentReason } from '../domain/card-lifecycle';
import { cardNotFound } from '../domain/errors';
import { availableMinor } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import { runOnce } from './idempotency';
import { settleLocked } from './lapsed-holds';
import { saveAndPost } from './ledger-posting';
import { accepted } from './outcome';
import type { AppContext } from './ports';

export interface AdjustBalanceCommand {
  readonly idempotencyKey: string;
  readonly giftCardId: string;
  /** Signed: positive credits, negative debits; never zero. */
  readonly amountMinor: Minor;
  readonly currency: string;
  readonly reason: AdjustmentReason;
  readonly note: string;
}

export interface AdjustedBalance {
  readonly transactionId: string;
  readonly giftCardId: string;
  readonly amountMinor: Minor;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
}

/**
 * An operator's correction of a card's balance (SPEC §10): one ADJUSTMENT entry, so the balance
 * still equals the sum of its entries, and money created or destroyed by it is accounted for as
 * adjustments, never hidden in another entry type.
 */
export function adjustBalance(ctx: AppContext, command: AdjustBalanceCommand): Promise<AdjustedBalance> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'AdjustBalance', key: idempotencyKey, payload }, async (tx, claim) => {
    const row = await tx.cards.lockByPublicId(command.giftCardId);
    if (row === null) throw cardNotFound();
    const operationId = await claim();
    const { card, now } = await settleLocked(ctx, tx, row);
    const adjusted = adjust(card, command.amountMinor, command.currency, ctx.limits.maxBalanceMinor);
    const entry = await saveAndPost(tx, {
      card: adjusted,
      type: EntryType.ADJUSTMENT,
      amountMinor: command.amountMinor,
      operationId,
      externalRef: null,
      now,
    });
    await tx.lifecycle.recordAdjustment({
      ledgerEntryId: entry.id,
      reason: command.reason,
      note: command.note,
      caller: currentCallerName(),
    });
    return accepted({
      transactionId: entry.publicId,
      giftCardId: adjusted.publicId,
      amountMinor: command.amountMinor,
      balanceMinor: adjusted.balanceMinor,
      availableMinor: availableMinor(adjusted),
      currency: adjusted.currency,
    });
  });
}
