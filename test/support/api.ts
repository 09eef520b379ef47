import { Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import {
  BalanceInquiryRequest,
  BalanceTransferRequest,
  CombineCardsRequest,
  GiftDigitalCardRequest,
  IssueVirtualCardRequest,
  ListGiftCardsRequest,
  RedeemRequest,
  RefundRequest,
  ReloadRequest,
  SaveGiftCardRequest,
  ShareGiftCardRequest,
  UnshareGiftCardRequest,
  UpdateGiftCardRequest,
  type GiftCardServiceClient,
} from '../../gen/giftcard/v1/gift_card_service';
import { ListCardActivitiesRequest } from '../../gen/giftcard/v1/card_activity';
import { AuthorizeRedemptionRequest, CaptureHoldRequest, VoidHoldRequest } from '../../gen/giftcard/v1/holds';
import { ReconcileLedgerRequest } from '../../gen/giftcard/v1/reconciliation';
import { ReverseOperationRequest } from '../../gen/giftcard/v1/reversal';
import {
  AdjustBalanceRequest,
  BlockCardRequest,
  ReissueCredentialsRequest,
  UnblockCardRequest,
} from '../../gen/giftcard/v1/card_lifecycle';

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

interface PartialBuilder<Req> {
  fromPartial(partial: Partial<Req>): Req;
}

/** Every call gets a deadline: a hung call fails the test instead of hanging the run. */
const CALL_DEADLINE_MS = 30_000;

export interface CallSettings {
  /** The call's deadline, from now; tests of deadline behaviour set their own. */
  readonly deadlineMs?: number;
  /** Sent as `authorization: Bearer <token>`, for specs with a callers file. */
  readonly bearerToken?: string;
}

function metadataOf(settings: CallSettings): Metadata {
  const metadata = new Metadata();
  if (settings.bearerToken !== undefined) metadata.set('authorization', `Bearer ${settings.bearerToken}`);
  return metadata;
}

function bind<Req, Res>(client: GiftCardServiceClient, method: UnaryMethod<Req, Res>, builder: PartialBuilder<Req>) {
  return (request: Partial<Req>, settings: CallSettings = {}): Promise<Res> =>
    new Promise((resolve, reject) => {
      method.call(
        client,
        builder.fromPartial(request),
        metadataOf(settings),
        { deadline: Date.now() + (settings.deadlineMs ?? CALL_DEADLINE_MS) },
        (error, response) => {
          if (error) reject(error);
          else resolve(response);
        },
      );
    });
}

/** The service's RPCs as promises taking partial requests (unset fields are proto defaults). */
export class GiftCardApi {
  readonly issueVirtualCard;
  readonly reload;
  readonly redeem;
  readonly balanceInquiry;
  readonly balanceTransfer;
  readonly refund;
  readonly saveGiftCard;
  readonly shareGiftCard;
  readonly unshareGiftCard;
  readonly giftDigitalCard;
  readonly combineCards;
  readonly listGiftCards;
  readonly updateGiftCard;
  readonly authorizeRedemption;
  readonly captureHold;
  readonly voidHold;
  readonly listCardActivities;
  readonly reverseOperation;
  readonly blockCard;
  readonly unblockCard;
  readonly adjustBalance;
  readonly reissueCredentials;
  readonly reconcileLedger;

  constructor(readonly client: GiftCardServiceClient) {
    this.issueVirtualCard = bind(client, client.issueVirtualCard, IssueVirtualCardRequest);
    this.reload = bind(client, client.reload, ReloadRequest);
    this.redeem = bind(client, client.redeem, RedeemRequest);
    this.balanceInquiry = bind(client, client.balanceInquiry, BalanceInquiryRequest);
    this.balanceTransfer = bind(client, client.balanceTransfer, BalanceTransferRequest);
    this.refund = bind(client, client.refund, RefundRequest);
    this.saveGiftCard = bind(client, client.saveGiftCard, SaveGiftCardRequest);
    this.shareGiftCard = bind(client, client.shareGiftCard, ShareGiftCardRequest);
    this.unshareGiftCard = bind(client, client.unshareGiftCard, UnshareGiftCardRequest);
    this.giftDigitalCard = bind(client, client.giftDigitalCard, GiftDigitalCardRequest);
    this.combineCards = bind(client, client.combineCards, CombineCardsRequest);
    this.listGiftCards = bind(client, client.listGiftCards, ListGiftCardsRequest);
    this.updateGiftCard = bind(client, client.updateGiftCard, UpdateGiftCardRequest);
    this.authorizeRedemption = bind(client, client.authorizeRedemption, AuthorizeRedemptionRequest);
    this.captureHold = bind(client, client.captureHold, CaptureHoldRequest);
    this.voidHold = bind(client, client.voidHold, VoidHoldRequest);
    this.listCardActivities = bind(client, client.listCardActivities, ListCardActivitiesRequest);
    this.reverseOperation = bind(client, client.reverseOperation, ReverseOperationRequest);
    this.blockCard = bind(client, client.blockCard, BlockCardRequest);
    this.unblockCard = bind(client, client.unblockCard, UnblockCardRequest);
    this.adjustBalance = bind(client, client.adjustBalance, AdjustBalanceRequest);
    this.reissueCredentials = bind(client, client.reissueCredentials, ReissueCredentialsRequest);
    this.reconcileLedger = bind(client, client.reconcileLedger, ReconcileLedgerRequest);
  }
}
