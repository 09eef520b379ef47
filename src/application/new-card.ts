import { randomUUID } from 'node:crypto';
import { generateCardNumber, generatePasscode, lastFour } from '../domain/card-number';
import { CardStatus, type GiftCard } from '../domain/gift-card';
import { EntryType, type StoredLedgerEntry } from '../domain/ledger-entry';
import { assertWithinMaximum, type Minor } from '../domain/money';
import { post } from './ledger-posting';
import { AccessRole, CardNumberTaken, type AppContext, type TransactionScope } from './ports';

/** A collision among 10^15 numbers is rare; a few draws make a failure practically impossible. */
const MAX_NUMBER_DRAWS = 5;

/** A card just created, with the only copies of its number and passcode in clear. */
export interface CreatedCard {
  readonly card: GiftCard;
  readonly cardNumber: string;
  readonly passcode: string;
}

export interface CardTerms {
  readonly currency: string;
  readonly expiresAt: Date | null;
  /** The opening balance; the caller writes the ledger entry that accounts for it. */
  readonly balanceMinor: bigint;
}

/** Inserts an active card with a fresh number and passcode. */
export async function createCard(ctx: AppContext, tx: TransactionScope, terms: CardTerms): Promise<CreatedCard> {
  const publicId = randomUUID();
  const passcode = generatePasscode();
  for (let draw = 1; ; draw++) {
    const cardNumber = generateCardNumber();
    try {
      const card = await tx.cards.insert({
        publicId,
        numberHash: ctx.secrets.numberHash(cardNumber),
        numberLast4: lastFour(cardNumber),
        passcodeHash: ctx.secrets.hashPasscode(publicId, passcode),
        currency: terms.currency,
        balanceMinor: terms.balanceMinor,
        status: CardStatus.ACTIVE,
        expiresAt: terms.expiresAt,
        successorCardId: null,
      });
      return { card, cardNumber, passcode };
    } catch (error) {
      if (!(error instanceof CardNumberTaken) || draw >= MAX_NUMBER_DRAWS) throw error;
    }
  }
}

export interface PurchaseTerms {
  readonly amountMinor: Minor;
  readonly currency: string;
  readonly expiresAt: Date | null;
  /** The purchase that pays for the card, recorded on its ISSUE entry. */
  readonly sourceTransactionId: string;
  /** The user who owns the card from the start, if any. */
  readonly ownerUserId: string | null;
  /** The request's operation id (its idempotency claim names it). */
  readonly operationId: string;
  readonly now: Date;
}

/** A card paid for by a purchase: new money enters the ledger as its ISSUE entry. */
export interface PurchasedCard extends CreatedCard {
  readonly entry: StoredLedgerEntry;
}

/** Issues a card funded by a purchase (IssueVirtualCard, and GiftDigitalCard's new-card mode). */
export async function issuePurchasedCard(
  ctx: AppContext,
  tx: TransactionScope,
  terms: PurchaseTerms,
): Promise<PurchasedCard> {
  assertWithinMaximum(terms.amountMinor, ctx.limits.maxBalanceMinor);
  const created = await createCard(ctx, tx, {
    currency: terms.currency,
    expiresAt: terms.expiresAt,
    balanceMinor: terms.amountMinor,
  });
  const entry = await post(tx, {
    card: created.card,
    type: EntryType.ISSUE,
    amountMinor: terms.amountMinor,
    operationId: terms.operationId,
    externalRef: terms.sourceTransactionId,
    now: terms.now,
  });
  if (terms.ownerUserId !== null) {
    await tx.access.insert(
      { cardId: created.card.id, userId: terms.ownerUserId, role: AccessRole.OWNER, preferred: false },
      terms.now,
    );
  }
  return { ...created, entry };
}
