/**
 * The TypeScript client of giftcard.v1.GiftCardService: the generated stubs and messages, the
 * error reasons, a decoder for the error details, and the service config with its retry policy.
 * Import from here only; see client/README.md.
 */
export * from '../gen/giftcard/v1/gift_card_service';
export { GiftCardRole, GiftCardStatus, SavedGiftCard } from '../gen/giftcard/v1/gift_card';
export { ErrorReason } from '../gen/giftcard/v1/error_reason';
export { BadRequest, ErrorInfo } from '../gen/google/rpc/error_details';
export { decodeGiftCardError, isServiceError, type GiftCardError } from './status-details';
export { createGiftCardClient, giftCardChannelOptions, GIFT_CARD_SERVICE_CONFIG } from './service-config';
export { call, GiftCardCallError, type CallSettings, type UnaryMethod } from './unary';
