import { generateCardNumber, generatePasscode, lastFour } from '../domain/card-number';
import type { GiftCard } from '../domain/gift-card';
import { credentialsReissued } from './card-events';
import { CardNumberTaken, type AppContext, type TransactionScope } from './ports';

/** As for a new card: a collision among 10^15 numbers is rare, a few draws make failure practically impossible. */
const MAX_NUMBER_DRAWS = 5;

/** The only copies of a card's new number and passcode in clear. */
export interface NewCredentials {
  readonly card: GiftCard;
  readonly cardNumber: string;
  readonly passcode: string;
}

/**
 * Gives a locked card a fresh number and passcode, stored exactly as issue stores them (keyed hash
 * of the number, last four digits, passcode hash bound to the card's public id). The old number's
 * hash is overwritten, so from this transaction's commit it finds no card: old credentials get the
 * answer an unknown card gets. The new number starts with no recorded wrong passcodes, whatever a
 * guesser tried against it before it was a card's, so the card's lockout starts afresh.
 */
export async function reissueCredentials(
  ctx: AppContext,
  tx: TransactionScope,
  card: GiftCard,
  operationId: string,
  now: Date,
): Promise<NewCredentials> {
  const passcode = generatePasscode();
  const passcodeHash = ctx.secrets.hashPasscode(card.publicId, passcode);
  for (let draw = 1; ; draw++) {
    const cardNumber = generateCardNumber();
    const numberHash = ctx.secrets.numberHash(cardNumber);
    const numberLast4 = lastFour(cardNumber);
    try {
      await tx.lifecycle.replaceCredentials(card.id, { numberHash, numberLast4, passcodeHash }, now);
    } catch (error) {
      if (!(error instanceof CardNumberTaken) || draw >= MAX_NUMBER_DRAWS) throw error;
      continue;
    }
    await tx.passcodeFailures.clear(numberHash);
    const reissued = { ...card, numberLast4, passcodeHash };
    tx.outbox.add(credentialsReissued(reissued, operationId, now));
    return { card: reissued, cardNumber, passcode };
  }
}
