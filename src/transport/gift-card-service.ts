import type { GiftCardServiceServer } from '../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../application/ports';
import { adjustBalanceHandler } from './handlers/adjust-balance.handler';
import { authorizeRedemptionHandler } from './handlers/authorize-redemption.handler';
import { balanceInquiryHandler } from './handlers/balance-inquiry.handler';
import { balanceTransferHandler } from './handlers/balance-transfer.handler';
import { blockCardHandler } from './handlers/block-card.handler';
import { captureHoldHandler } from './handlers/capture-hold.handler';
import { combineCardsHandler } from './handlers/combine-cards.handler';
import { giftDigitalCardHandler } from './handlers/gift-digital-card.handler';
import { issueVirtualCardHandler } from './handlers/issue-virtual-card.handler';
import { listCardActivitiesHandler } from './handlers/list-card-activities.handler';
import { listGiftCardsHandler } from './handlers/list-gift-cards.handler';
import { reconcileLedgerHandler } from './handlers/reconcile-ledger.handler';
import { redeemHandler } from './handlers/redeem.handler';
import { refundHandler } from './handlers/refund.handler';
import { reissueCredentialsHandler } from './handlers/reissue-credentials.handler';
import { reloadHandler } from './handlers/reload.handler';
import { reverseOperationHandler } from './handlers/reverse-operation.handler';
import { saveGiftCardHandler } from './handlers/save-gift-card.handler';
import { shareGiftCardHandler } from './handlers/share-gift-card.handler';
import { unblockCardHandler } from './handlers/unblock-card.handler';
import { unshareGiftCardHandler } from './handlers/unshare-gift-card.handler';
import { updateGiftCardHandler } from './handlers/update-gift-card.handler';
import { voidHoldHandler } from './handlers/void-hold.handler';
import { unary, type UnaryContext } from './unary';

/** GiftCardService: one line per RPC, from the wire to its operation in application/. */
export function giftCardService(app: AppContext, context: UnaryContext): GiftCardServiceServer {
  return {
    issueVirtualCard: unary(context, 'IssueVirtualCard', issueVirtualCardHandler(app)),
    reload: unary(context, 'Reload', reloadHandler(app)),
    redeem: unary(context, 'Redeem', redeemHandler(app)),
    balanceInquiry: unary(context, 'BalanceInquiry', balanceInquiryHandler(app)),
    balanceTransfer: unary(context, 'BalanceTransfer', balanceTransferHandler(app)),
    refund: unary(context, 'Refund', refundHandler(app)),
    saveGiftCard: unary(context, 'SaveGiftCard', saveGiftCardHandler(app)),
    shareGiftCard: unary(context, 'ShareGiftCard', shareGiftCardHandler(app)),
    unshareGiftCard: unary(context, 'UnshareGiftCard', unshareGiftCardHandler(app)),
    giftDigitalCard: unary(context, 'GiftDigitalCard', giftDigitalCardHandler(app)),
    combineCards: unary(context, 'CombineCards', combineCardsHandler(app)),
    listGiftCards: unary(context, 'ListGiftCards', listGiftCardsHandler(app)),
    updateGiftCard: unary(context, 'UpdateGiftCard', updateGiftCardHandler(app)),
    authorizeRedemption: unary(context, 'AuthorizeRedemption', authorizeRedemptionHandler(app)),
    captureHold: unary(context, 'CaptureHold', captureHoldHandler(app)),
    voidHold: unary(context, 'VoidHold', voidHoldHandler(app)),
    listCardActivities: unary(context, 'ListCardActivities', listCardActivitiesHandler(app)),
    reverseOperation: unary(context, 'ReverseOperation', reverseOperationHandler(app)),
    blockCard: unary(context, 'BlockCard', blockCardHandler(app)),
    unblockCard: unary(context, 'UnblockCard', unblockCardHandler(app)),
    adjustBalance: unary(context, 'AdjustBalance', adjustBalanceHandler(app)),
    reissueCredentials: unary(context, 'ReissueCredentials', reissueCredentialsHandler(app)),
    reconcileLedger: unary(context, 'ReconcileLedger', reconcileLedgerHandler(app)),
  };
}
