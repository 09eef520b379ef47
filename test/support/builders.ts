import { randomUUID } from 'node:crypto';
import type { IssueVirtualCardResponse } from '../../gen/giftcard/v1/gift_card_service';
import type { GiftCardApi } from './api';

export const newKey = (): string => `test-${randomUUID()}`;

/** A fresh funding reference: a purchase funds one card (issue, reload or gift) once. */
export const newPurchase = (): string => `purchase-${randomUUID()}`;

/** A freshly issued card; tests name it by these credentials. */
export function issueCard(
  api: GiftCardApi,
  overrides: { amount?: bigint; currency?: string; userId?: string; expireTime?: Date } = {},
): Promise<IssueVirtualCardResponse> {
  return api.issueVirtualCard({
    idempotencyKey: newKey(),
    amount: overrides.amount ?? 10_000n,
    currency: overrides.currency ?? 'USD',
    sourceTransactionId: newPurchase(),
    userId: overrides.userId ?? '',
    expireTime: overrides.expireTime,
  });
}

export const credentialsOf = (card: { cardNumber: string; passcode: string }) => ({
  cardNumber: card.cardNumber,
  passcode: card.passcode,
});
