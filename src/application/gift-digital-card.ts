import { CardEventType } from '../domain/card-event';
import { assertNoHoldsOutstanding, assertSpendable, availableMinor, CardUse } from '../domain/gift-card';
import type { Minor } from '../domain/money';
import { cardNotFound } from '../domain/errors';
import { walletChanged } from './card-events';
import { reissueCredentials } from './card-credentials';
import { assertOwnedBy } from './card-ownership';
import { runOnce, type Claim } from './idempotency';
import { settleLocked } from './lapsed-holds';
import { issuePurchasedCard } from './new-card';
import { accepted, type Outcome } from './outcome';
import { AccessRole, type AppContext, type TransactionScope } from './ports';

/** What is gifted: a card bought for the recipient now, or one the sender already owns. */
export type Gift =
  | {
      readonly kind: 'new';
      readonly amountMinor: Minor;
      readonly currency: string;
      readonly sourceTransactionId: string;
    }
  | { readonly kind: 'existing'; readonly giftCardId: string };

export interface GiftDigitalCardCommand {
  readonly idempotencyKey: string;
  readonly senderUserId: string;
  readonly recipientUserId: string;
  readonly gift: Gift;
}

export interface GiftedCard {
  readonly giftCardId: string;
  /** Only a new card's number and passcode are shown, once; an existing card's never are. */
  readonly cardNumber: string | null;
  readonly passcode: string | null;
  readonly numberLast4: string;
  readonly balanceMinor: Minor;
  /** A gifted card carries no holds: the whole balance is available. */
  readonly availableMinor: Minor;
  readonly currency: string;
  /** The ISSUE entry of a new card; an existing card changes hands without moving money. */
  readonly transactionId: string | null;
  readonly recipientUserId: string;
}

type NewCardGift = Extract<Gift, { kind: 'new' }>;
type ExistingCardGift = Extract<Gift, { kind: 'existing' }>;

export function giftDigitalCard(ctx: AppContext, command: GiftDigitalCardCommand): Promise<GiftedCard> {
  const { idempotencyKey, ...payload } = command;
  const { gift } = command;
  return runOnce<GiftedCard>(ctx, { operation: 'GiftDigitalCard', key: idempotencyKey, payload }, (tx, claim) =>
    gift.kind === 'new'
      ? giftNewCard(ctx, tx, claim, command.senderUserId, command.recipientUserId, gift)
      : handOverCard(ctx, tx, claim, command.senderUserId, command.recipientUserId, gift),
  );
}

/** New-card mode: a purchase funds a card issued straight into the recipient's wallet. */
async function giftNewCard(
  ctx: AppContext,
  tx: TransactionScope,
  claim: Claim,
  senderUserId: string,
  recipientUserId: string,
  gift: NewCardGift,
): Promise<Outcome<GiftedCard>> {
  const operationId = await claim();
  const now = ctx.clock.now();
  // No expiry: the request has no field for one, and a gift should not lapse unseen.
  const issued = await issuePurchasedCard(ctx, tx, {
    amountMinor: gift.amountMinor,
    currency: gift.currency,
    expiresAt: null,
    sourceTransactionId: gift.sourceTransactionId,
    ownerUserId: recipientUserId,
    operationId,
    now,
  });
  tx.outbox.add(walletChanged(CardEventType.GIFTED, issued.card, recipientUserId, operationId, now, senderUserId));
  return accepted({
    giftCardId: issued.card.publicId,
    cardNumber: issued.cardNumber,
    passcode: issued.passcode,
    numberLast4: issued.card.numberLast4,
    balanceMinor: issued.card.balanceMinor,
    availableMinor: availableMinor(issued.card),
    currency: issued.card.currency,
    transactionId: issued.entry.publicId,
    recipientUserId,
  });
}

/** Existing-card mode: the sender's own card changes hands with new credentials; no money moves. */
async function handOverCard(
  ctx: AppContext,
  tx: TransactionScope,
  claim: Claim,
  senderUserId: string,
  recipientUserId: string,
  gift: ExistingCardGift,
): Promise<Outcome<GiftedCard>> {
  // Lock the card before reading who owns it: a concurrent gift or combine of this card waits
  // here, so the sender's ownership cannot change between the check and the hand-over.
  const row = await tx.cards.lockByPublicId(gift.giftCardId);
  if (row === null) throw cardNotFound();
  // Claim before the ownership check: a concurrent duplicate must replay this gift, not be
  // refused because the sender no longer owns the card it gave away.
  const operationId = await claim();
  await assertOwnedBy(tx, row, senderUserId);
  const { card, now } = await settleLocked(ctx, tx, row);
  // A closed or lapsed card would be a gift of nothing the recipient could use.
  assertSpendable(card, now, CardUse.GIFT);
  // The sender's authorizations would be captured from the recipient's card.
  assertNoHoldsOutstanding(card);
  // The recipient starts alone: the sender's access and every share end with the hand-over.
  await tx.access.revokeAll(card.id);
  await tx.access.insert({ cardId: card.id, userId: recipientUserId, role: AccessRole.OWNER, preferred: false }, now);
  // The sender kept the number and passcode; new ones end that with the hand-over. Nobody gets
  // them here (SPEC §10): the recipient, now owner, asks ReissueCredentials when they need them.
  const { card: reissued } = await reissueCredentials(ctx, tx, card, operationId, now);
  tx.outbox.add(walletChanged(CardEventType.GIFTED, reissued, recipientUserId, operationId, now, senderUserId));
  return accepted({
    giftCardId: card.publicId,
    cardNumber: null,
    passcode: null,
    numberLast4: reissued.numberLast4,
    balanceMinor: card.balanceMinor,
    availableMinor: availableMinor(card),
    currency: card.currency,
    transactionId: null,
    recipientUserId,
  });
}
