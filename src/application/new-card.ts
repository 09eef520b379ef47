import { randomUUID } from 'node:crypto';
import { generateCardNumber, generatePasscode, lastFour } from '../domain/card-number';
import { CardStatus, type GiftCard } from '../domain/gift-card';
import { CardNumberTaken, type AppContext, type TransactionScope } from './ports';

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
        failedPasscodeAttempts: 0,
        passcodeLockedUntil: null,
        successorCardId: null,
      });
      return { card, cardNumber, passcode };
    } catch (error) {
      if (!(error instanceof CardNumberTaken) || draw >= MAX_NUMBER_DRAWS) throw error;
    }
  }
}
