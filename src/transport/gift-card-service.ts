import { status as GrpcStatus, type handleUnaryCall } from '@grpc/grpc-js';
import type { GiftCardServiceServer } from '../../gen/giftcard/v1/gift_card_service';
import type { AppContext } from '../application/ports';
import { balanceInquiryHandler } from './handlers/balance-inquiry.handler';
import { balanceTransferHandler } from './handlers/balance-transfer.handler';
import { combineCardsHandler } from './handlers/combine-cards.handler';
import { giftDigitalCardHandler } from './handlers/gift-digital-card.handler';
import { issueVirtualCardHandler } from './handlers/issue-virtual-card.handler';
import { redeemHandler } from './handlers/redeem.handler';
import { refundHandler } from './handlers/refund.handler';
import { reloadHandler } from './handlers/reload.handler';
import { unary, type UnaryContext } from './unary';

/** Declared in the contract, not built yet: a clear UNIMPLEMENTED instead of a silent stub. */
function notImplemented<Req, Res>(method: string): handleUnaryCall<Req, Res> {
  return (_call, callback) => {
    callback({ code: GrpcStatus.UNIMPLEMENTED, details: `${method} is not implemented yet` });
  };
}

/** GiftCardService: one line per RPC, from the wire to its operation in application/. */
export function giftCardService(app: AppContext, context: UnaryContext): GiftCardServiceServer {
  return {
    issueVirtualCard: unary(context, 'IssueVirtualCard', issueVirtualCardHandler(app)),
    reload: unary(context, 'Reload', reloadHandler(app)),
    redeem: unary(context, 'Redeem', redeemHandler(app)),
    balanceInquiry: unary(context, 'BalanceInquiry', balanceInquiryHandler(app)),
    balanceTransfer: unary(context, 'BalanceTransfer', balanceTransferHandler(app)),
    refund: unary(context, 'Refund', refundHandler(app)),
    saveGiftCard: notImplemented('SaveGiftCard'),
    shareGiftCard: notImplemented('ShareGiftCard'),
    unshareGiftCard: notImplemented('UnshareGiftCard'),
    giftDigitalCard: unary(context, 'GiftDigitalCard', giftDigitalCardHandler(app)),
    combineCards: unary(context, 'CombineCards', combineCardsHandler(app)),
    listGiftCards: notImplemented('ListGiftCards'),
    updateGiftCard: notImplemented('UpdateGiftCard'),
  };
}
