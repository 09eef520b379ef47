import { availableMinor } from '../domain/gift-card';
import { capture } from '../domain/hold';
import { EntryType } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import { lockHeldCard } from './held-card';
import { runOnce } from './idempotency';
import { saveAndPost } from './ledger-posting';
import { accepted } from './outcome';
import type { AppContext } from './ports';

export interface CaptureHoldCommand {
  readonly idempotencyKey: string;
  readonly holdId: string;
  /** Null captures the whole hold. */
  readonly amountMinor: Minor | null;
}

export interface CaptureResult {
  /** The capture's REDEEM entry: refundable and reversible like any redemption. */
  readonly transactionId: string;
  readonly holdId: string;
  readonly giftCardId: string;
  readonly capturedMinor: Minor;
  readonly releasedMinor: Minor;
  readonly balanceMinor: Minor;
  readonly availableMinor: Minor;
  readonly currency: string;
}

/**
 * Captures a hold (SPEC §7): a REDEEM ledger entry naming the hold, the rest released, all under
 * the card's lock. A hold is captured at most once: its closing changes only an open row, and the
 * ledger's unique key on the hold is the database's backstop.
 */
export function captureHold(ctx: AppContext, command: CaptureHoldCommand): Promise<CaptureResult> {
  const { idempotencyKey, ...payload } = command;
  return runOnce(ctx, { operation: 'CaptureHold', key: idempotencyKey, payload }, async (tx, claim) => {
    const { card, now, hold, open } = await lockHeldCard(ctx, tx, command.holdId);
    const operationId = await claim();
    const captured = capture(card, open, hold, command.amountMinor, now);
    await tx.holds.close([captured.hold]);
    const entry = await saveAndPost(tx, {
      card: captured.card,
      type: EntryType.REDEEM,
      amountMinor: -captured.capturedMinor,
      operationId,
      externalRef: hold.orderId,
      hold,
      now,
    });
    return accepted({
      transactionId: entry.publicId,
      holdId: hold.publicId,
      giftCardId: card.publicId,
      capturedMinor: captured.capturedMinor,
      releasedMinor: captured.releasedMinor,
      balanceMinor: captured.card.balanceMinor,
      availableMinor: availableMinor(captured.card),
      currency: card.currency,
    });
  });
}
