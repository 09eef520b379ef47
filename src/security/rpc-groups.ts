import { GiftCardServiceService } from '../../gen/giftcard/v1/gift_card_service';

/** The groups a callers file grants (SPEC §12); each RPC belongs to exactly one. */
export const CALLER_GROUPS = ['payments', 'wallet', 'operators', 'read'] as const;
export type CallerGroup = (typeof CALLER_GROUPS)[number];

/**
 * Every RPC of the generated service definition and its group. Keyed by the generated service, so a
 * new RPC in the contract does not compile until it is given a group here.
 */
const GROUP_BY_METHOD: Readonly<Record<keyof typeof GiftCardServiceService, CallerGroup>> = {
  issueVirtualCard: 'payments',
  reload: 'payments',
  redeem: 'payments',
  balanceTransfer: 'payments',
  refund: 'payments',
  authorizeRedemption: 'payments',
  captureHold: 'payments',
  voidHold: 'payments',
  reverseOperation: 'payments',
  balanceInquiry: 'read',
  listGiftCards: 'read',
  listCardActivities: 'read',
  saveGiftCard: 'wallet',
  shareGiftCard: 'wallet',
  unshareGiftCard: 'wallet',
  giftDigitalCard: 'wallet',
  combineCards: 'wallet',
  updateGiftCard: 'wallet',
  // A card's owner or credential holder gets new credentials through the wallet, as they save and gift.
  reissueCredentials: 'wallet',
  blockCard: 'operators',
  unblockCard: 'operators',
  adjustBalance: 'operators',
  reconcileLedger: 'operators',
};

/** The RPC's name as callers and the contract spell it: the last segment of its path. */
export function rpcNameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** RPC name (`Redeem`) -> its group, for every RPC of GiftCardService. */
export const RPC_GROUPS: ReadonlyMap<string, CallerGroup> = new Map(
  Object.entries(GiftCardServiceService).map(([method, definition]) => [
    rpcNameOf(definition.path),
    GROUP_BY_METHOD[method as keyof typeof GiftCardServiceService],
  ]),
);
