import type { BalanceTransferResponse } from '../../../gen/giftcard/v1/gift_card_service';
import { planned, type BalanceEffect, type WorkloadOperation } from './planned-call';
import type { Rng } from './random';
import type { WorkloadCard, WorkloadWorld } from './world';

/**
 * The operations that move money between cards or hand a card to another user. The fixed cards
 * are only ever a transfer's source without delete and a combine's target, so they stay ACTIVE and
 * owned by their users; everything that retires a card or changes its owner does it to a spare
 * (a card a transfer or a gift created for one of the fixed cards' owners).
 */

/** Calls naming a spare may find it retired or given away by another client's call in flight. */
const SPARE_GONE = ['CARD_NOT_ACTIVE', 'CARD_NOT_FOUND'] as const;

/** At most this many spares per combine: enough for several COMBINE_IN entries of one operation. */
const MAX_COMBINE_SOURCES = 3;

/** Both sides of a transfer are named by the answer: the debit and the credit entry. */
function transferEffects(
  sourceGiftCardId: string,
  movedMinor: bigint,
  answer: BalanceTransferResponse,
): BalanceEffect[] {
  return [
    { giftCardId: sourceGiftCardId, deltaMinor: -movedMinor, transactionId: answer.debitTransactionId },
    { giftCardId: answer.giftCardId, deltaMinor: movedMinor, transactionId: answer.transactionId },
  ];
}

/** Another fixed card's owner than the given user: a gift goes to someone else. */
function otherOwner(world: WorkloadWorld, rng: Rng, userId: string): WorkloadCard {
  return rng.pick(world.cards.filter((card) => card.userId !== userId));
}

/** Part of a fixed card's balance to a new card of the same owner: a spare to spend or combine back. */
export const balanceTransfer: WorkloadOperation = {
  name: 'BalanceTransfer',
  weight: 2,
  plan: (world, rng, key) => {
    const source = rng.pick(world.cards);
    const amount = rng.amount(1n, 3_000n);
    // Never is_delete_source_card here: the fixed cards must stay ACTIVE.
    const request = {
      idempotencyKey: key,
      cardNumber: source.cardNumber,
      passcode: source.passcode,
      amount,
      currency: world.currency,
    };
    return planned({
      operation: 'BalanceTransfer',
      key,
      // Transfer entries carry no caller reference: the answer names both of them.
      externalRef: null,
      allowedRefusals: ['INSUFFICIENT_FUNDS'],
      send: (api, settings) => api.balanceTransfer(request, settings),
      acknowledge: (answer, w) => {
        // The new card is saved to the source's owner (docs/card-movements.md).
        w.addSpare(answer, source.userId);
        return transferEffects(source.giftCardId, amount, answer);
      },
    });
  },
};

/** A spare's whole balance to a new card, the spare DEACTIVATED with the new card as its successor. */
export const deletingTransfer: WorkloadOperation = {
  name: 'BalanceTransfer (delete source)',
  weight: 1,
  plan: (world, rng, key) => {
    const named = world.sparesByCredentials();
    if (named.length === 0) return null;
    const source = rng.pick(named);
    // Amount zero moves the whole balance, whatever spending happened since the spare was made.
    const request = {
      idempotencyKey: key,
      cardNumber: source.cardNumber,
      passcode: source.passcode,
      currency: world.currency,
      isDeleteSourceCard: true,
    };
    return planned({
      operation: 'BalanceTransfer (delete source)',
      key,
      externalRef: null,
      // Retired by another call in flight, or spent down to nothing (an empty card is not transferred).
      allowedRefusals: ['CARD_NOT_ACTIVE', 'INSUFFICIENT_FUNDS'],
      settled: world.callByCredentials(source),
      send: (api, settings) => api.balanceTransfer(request, settings),
      acknowledge: (answer, w) => {
        w.retireSpare(source.giftCardId);
        w.addSpare(answer, source.ownerUserId);
        return transferEffects(source.giftCardId, answer.balance, answer);
      },
    });
  },
};

/** New-card mode: a purchase (the key as its reference) funds a card in a fixed card owner's wallet. */
export const giftNewCard: WorkloadOperation = {
  name: 'GiftDigitalCard',
  weight: 1,
  plan: (world, rng, key) => {
    const recipient = rng.pick(world.cards);
    const amount = rng.amount(500n, 5_000n);
    const request = {
      idempotencyKey: key,
      userId: otherOwner(world, rng, recipient.userId).userId,
      recipientUserId: recipient.userId,
      amount,
      currency: world.currency,
      sourceTransactionId: key,
    };
    return planned({
      operation: 'GiftDigitalCard',
      key,
      externalRef: key,
      send: (api, settings) => api.giftDigitalCard(request, settings),
      acknowledge: (answer, w) => {
        w.addSpare(answer, recipient.userId);
        return [{ giftCardId: answer.giftCardId, deltaMinor: amount, transactionId: answer.transactionId }];
      },
    });
  },
};

/**
 * Existing-card mode: a spare changes hands, moving no money. Its new owner may then combine it
 * into their own fixed card, and its old owner no longer can.
 */
export const giftExistingCard: WorkloadOperation = {
  name: 'GiftDigitalCard (existing card)',
  weight: 1,
  plan: (world, rng, key) => {
    const giftable = world.giftableSpares();
    if (giftable.length === 0) return null;
    const spare = rng.pick(giftable);
    spare.giftInFlight = true;
    const recipient = otherOwner(world, rng, spare.ownerUserId);
    const request = {
      idempotencyKey: key,
      userId: spare.ownerUserId,
      recipientUserId: recipient.userId,
      giftCardId: spare.giftCardId,
    };
    return planned({
      operation: 'GiftDigitalCard (existing card)',
      key,
      // No ledger entry: any entry the checker finds for it is one nobody was told of.
      externalRef: null,
      allowedRefusals: SPARE_GONE,
      settled: () => {
        spare.giftInFlight = false;
      },
      send: (api, settings) => api.giftDigitalCard(request, settings),
      acknowledge: () => {
        spare.ownerUserId = recipient.userId;
        spare.credentialsLive = false;
        return [];
      },
    });
  },
};

/** A fixed card's owner empties some of their spares into it; the spares end COMBINED. */
export const combineCards: WorkloadOperation = {
  name: 'CombineCards',
  weight: 2,
  plan: (world, rng, key) => {
    const target = rng.pick(world.cards);
    const owned = world.sparesOf(target.userId);
    if (owned.length === 0) return null;
    const sources = rng.shuffle(owned).slice(0, rng.int(1, MAX_COMBINE_SOURCES));
    const request = {
      idempotencyKey: key,
      userId: target.userId,
      targetGiftCardId: target.giftCardId,
      sourceGiftCardIds: sources.map((source) => source.giftCardId),
    };
    return planned({
      operation: 'CombineCards',
      key,
      externalRef: null,
      allowedRefusals: [...SPARE_GONE, 'BALANCE_LIMIT_EXCEEDED'],
      send: (api, settings) => api.combineCards(request, settings),
      acknowledge: (answer, w) =>
        sources.flatMap((source, index): BalanceEffect[] => {
          w.retireSpare(source.giftCardId);
          // The answer lists the sources in request order; an empty one moved nothing and wrote no entry.
          const moved = answer.sources[index];
          if (moved === undefined || moved.amount === 0n) return [];
          return [
            { giftCardId: source.giftCardId, deltaMinor: -moved.amount, transactionId: moved.transactionId },
            // The target's COMBINE_IN entries are not named, only the operation they belong to.
            {
              giftCardId: target.giftCardId,
              deltaMinor: moved.amount,
              transactionId: null,
              operationId: answer.transactionId,
            },
          ];
        }),
    });
  },
};
