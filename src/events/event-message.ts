import type { Options } from 'amqplib';
import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { GiftCardEvent, GiftCardEventType } from '../../gen/giftcard/v1/gift_card_event';
import { CardEventType, type CardEvent } from '../domain/card-event';
import type { PendingEvent } from './outbox-queue';

/** What consumers read in content_type: protobuf binary, and which message it holds. */
export const EVENT_CONTENT_TYPE = 'application/x-protobuf; proto=giftcard.v1.GiftCardEvent';
/** The AMQP app_id of every event. */
export const EVENT_APP_ID = 'giftcard-service';

/** One routing key per event type: `giftcard.<what changed>.<how>`, so a binding picks by either part. */
export const ROUTING_KEYS: Readonly<Record<CardEventType, string>> = {
  [CardEventType.ISSUED]: 'giftcard.balance.issued',
  [CardEventType.RELOADED]: 'giftcard.balance.reloaded',
  [CardEventType.REDEEMED]: 'giftcard.balance.redeemed',
  [CardEventType.REFUNDED]: 'giftcard.balance.refunded',
  [CardEventType.TRANSFERRED_OUT]: 'giftcard.balance.transferred_out',
  [CardEventType.TRANSFERRED_IN]: 'giftcard.balance.transferred_in',
  [CardEventType.COMBINED_OUT]: 'giftcard.balance.combined_out',
  [CardEventType.COMBINED_IN]: 'giftcard.balance.combined_in',
  [CardEventType.REVERSED]: 'giftcard.balance.reversed',
  [CardEventType.HOLD_PLACED]: 'giftcard.hold.placed',
  [CardEventType.HOLD_VOIDED]: 'giftcard.hold.voided',
  [CardEventType.HOLD_EXPIRED]: 'giftcard.hold.expired',
  [CardEventType.STATUS_CHANGED]: 'giftcard.status.changed',
  [CardEventType.SAVED]: 'giftcard.wallet.saved',
  [CardEventType.SHARED]: 'giftcard.wallet.shared',
  [CardEventType.UNSHARED]: 'giftcard.wallet.unshared',
  [CardEventType.GIFTED]: 'giftcard.wallet.gifted',
  [CardEventType.ADJUSTED]: 'giftcard.balance.adjusted',
  [CardEventType.CREDENTIALS_REISSUED]: 'giftcard.wallet.credentials_reissued',
};

const isCardEventType = (type: string): type is CardEventType => Object.hasOwn(ROUTING_KEYS, type);

/** The contract's name of an event type, e.g. GIFT_CARD_EVENT_TYPE_REDEEMED: the AMQP `type` property. */
export const contractTypeName = (type: CardEventType): `GIFT_CARD_EVENT_TYPE_${CardEventType}` =>
  `GIFT_CARD_EVENT_TYPE_${type}`;

/**
 * The event as giftcard.v1.GiftCardEvent bytes, encoded in the transaction that writes it to the
 * outbox, so every publication of it carries the same bytes. The sequence is the outbox row's id,
 * known only once the row exists: the relay adds it (see `amqpMessage`).
 */
export function encodeCardEvent(event: CardEvent): Uint8Array {
  return GiftCardEvent.encode({
    eventId: event.eventId,
    type: GiftCardEventType[contractTypeName(event.type)],
    giftCardId: event.giftCardId,
    eventTime: event.occurredAt,
    caller: event.caller,
    operationId: event.operationId,
    ledgerEntryId: event.ledgerEntryId ?? '',
    holdId: event.holdId ?? '',
    amount: event.amountMinor,
    balance: event.balanceAfterMinor,
    availableBalance: event.availableAfterMinor,
    currency: event.currency,
    status: GiftCardStatus[`GIFT_CARD_STATUS_${event.status}`],
    externalReference: event.externalRef ?? '',
    userId: event.userId ?? '',
    senderUserId: event.senderUserId ?? '',
    sequence: 0n,
  }).finish();
}

export interface AmqpMessage {
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
}

/** An outbox row as it goes to the exchange: persistent, typed, its id as message_id. */
export function amqpMessage(event: PendingEvent): AmqpMessage {
  if (!isCardEventType(event.eventType))
    throw new Error(`outbox row ${event.sequence} has unknown type ${event.eventType}`);
  // Appending an encoded field to an encoded message sets it (protobuf merges): the stored bytes
  // stay as they were written, with the row's sequence added.
  const content = Buffer.concat([
    event.payload,
    GiftCardEvent.encode({ ...EMPTY_EVENT, sequence: event.sequence }).finish(),
  ]);
  return {
    routingKey: ROUTING_KEYS[event.eventType],
    content,
    options: {
      persistent: true,
      contentType: EVENT_CONTENT_TYPE,
      type: contractTypeName(event.eventType),
      messageId: event.eventId,
      timestamp: Math.floor(event.createdAt.getTime() / 1000),
      appId: EVENT_APP_ID,
    },
  };
}

const EMPTY_EVENT = GiftCardEvent.fromPartial({});
