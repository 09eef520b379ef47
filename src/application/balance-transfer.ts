import { transferAmount } from '../domain/balance-transfer';
import { CardEventType } from '../domain/card-event';
import { availableMinor, CardStatus, debit, retire } from '../domain/gift-card';
import { EntryType } from '../domain/ledger-entry';
import type { Minor } from '../domain/money';
import { statusChanged, walletChanged } from './card-events';
import { assertOwnedBy } from './card-ownership';
import { lockReferencedCard, type CardReference } from './card-reference';
import { runOnce } from './idempotency';
import { post, saveAndPost } from './ledger-posting';
import { createCard } from './new-card';
import { accepted, rejected } from './outcome';
import { AccessRole, type AppContext } from './ports';

export interface BalanceTransferCommand {
  readonly idempotencyKey: string;
  /** The source: its credentials, or a saved card named by its owner. */
  readonly source: CardReference;
  /** With deleteSource, zero means the whole balance. */
  readonly amountMinor: Minor;
  readonly currency: string;
  readonly deleteSource: boolean;
}

export interface BalanceTransferResult {
  readonly giftCardId: string;
  readonly cardNumber: string;
  readonly passcode: string;
  readonly balanceMinor: Minor;
  /** The new card has no holds: the whole balance is available. */
  readonly availableMinor: Minor;
  readonly currency: string;
  /** The TRANSFER_IN entry on the new card. */
  readonly transactionId: string;
  /** The TRANSFER_OUT entry on the source card. */
  readonly debitTransactionId: string;
  readonly sourceGiftCardId: string;
  readonly sourceBalanceMinor: Minor;
  readonly sourceAvailableMinor: Minor;
  readonly sourceStatus: CardStatus;
}

/**
 * Moves money from a card named by its credentials to a card created for it. The new card keeps
 * the source's currency and expiry, so a transfer cannot extend a card's life, and it is saved to
 * the source's owner, if any, so the money stays in the wallet it was in.
 */
export function balanceTransfer(ctx: AppContext, command: BalanceTransferCommand): Promise<BalanceTransferResult> {
  const { idempotencyKey, source: reference, ...terms } = command;
  // The source's naming fields sit flat beside the terms, as they did before the saved-card form,
  // so a key recorded then still fingerprints the same request.
  const { kind, ...naming } = reference;
  const payload = { ...naming, ...terms };
  // The reply holds the new card's number and passcode: a saved-card retry is answered only once
  // the work has found the user still owns the source, as a credentials retry proves its passcode.
  const verifyBeforeReplay = kind === 'saved';
  return runOnce(
    ctx,
    { operation: 'BalanceTransfer', key: idempotencyKey, payload, verifyBeforeReplay },
    async (tx, claim) => {
      // The source is the only existing card touched; the new card is inserted, so no lock order arises.
      const located = await lockReferencedCard(ctx, tx, reference);
      if (!located.ok) return rejected(located.error);
      // Moving money to a new card of one's own is the owner's, not a user it is only shared with.
      if (reference.kind === 'saved') await assertOwnedBy(tx, located.value.card, reference.userId);
      const operationId = await claim();
      const { card: source, now } = located.value;
      const amountMinor = transferAmount(source, command, now);
      const created = await createCard(ctx, tx, {
        currency: source.currency,
        expiresAt: source.expiresAt,
        balanceMinor: amountMinor,
      });
      // A deleted source names the new card as its successor, so refunds of its redemptions follow the money.
      const debited = command.deleteSource
        ? retire(source, CardStatus.DEACTIVATED, created.card.id)
        : debit(source, amountMinor);
      const debitEntry = await saveAndPost(tx, {
        card: debited,
        type: EntryType.TRANSFER_OUT,
        amountMinor: -amountMinor,
        operationId,
        externalRef: null,
        now,
      });
      if (debited.status !== source.status) tx.outbox.add(statusChanged(debited, operationId, now));
      const creditEntry = await post(tx, {
        card: created.card,
        type: EntryType.TRANSFER_IN,
        amountMinor,
        operationId,
        externalRef: null,
        now,
      });
      const owner = await tx.access.findOwner(source.id);
      if (owner !== null) {
        // A deleted preferred card hands that place to the card that now holds its money.
        const preferred = command.deleteSource && owner.preferred;
        if (preferred) {
          // Preferred flags change only under the user's access-row locks, as UpdateGiftCard takes them.
          await tx.access.lockAllOfUser(owner.userId);
          await tx.access.setPreferred(source.id, owner.userId, false);
        }
        await tx.access.insert(
          { cardId: created.card.id, userId: owner.userId, role: AccessRole.OWNER, preferred },
          now,
        );
        tx.outbox.add(walletChanged(CardEventType.SAVED, created.card, owner.userId, operationId, now));
      }
      return accepted({
        giftCardId: created.card.publicId,
        cardNumber: created.cardNumber,
        passcode: created.passcode,
        balanceMinor: created.card.balanceMinor,
        availableMinor: availableMinor(created.card),
        currency: created.card.currency,
        transactionId: creditEntry.publicId,
        debitTransactionId: debitEntry.publicId,
        sourceGiftCardId: debited.publicId,
        sourceBalanceMinor: debited.balanceMinor,
        sourceAvailableMinor: availableMinor(debited),
        sourceStatus: debited.status,
      });
    },
  );
}
