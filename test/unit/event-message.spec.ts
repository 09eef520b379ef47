import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { GiftCardEvent, GiftCardEventType } from '../../gen/giftcard/v1/gift_card_event';
import { CardEventType, type CardEvent } from '../../src/domain/card-event';
import { CardStatus } from '../../src/domain/gift-card';
import { amqpMessage, encodeCardEvent, ROUTING_KEYS } from '../../src/events/event-message';

const redeemed: CardEvent = {
  eventId: '3f0c5a52-6b1e-4b8e-9d55-2c1a6f1d2e10',
  type: CardEventType.REDEEMED,
  cardId: 7n,
  giftCardId: 'card-7',
  occurredAt: new Date('2025-11-30T10:00:00.123Z'),
  caller: 'checkout',
  operationId: 'op-1',
  ledgerEntryId: 'entry-1',
  holdId: null,
  amountMinor: -1_250n,
  balanceAfterMinor: 2n ** 62n,
  availableAfterMinor: 2n ** 62n,
  currency: 'USD',
  status: CardStatus.ACTIVE,
  externalRef: 'order-1',
  userId: null,
  senderUserId: null,
};

describe('The event message', () => {
  it('carries the event as written, and the outbox row id as its sequence', () => {
    const message = amqpMessage({
      sequence: 9_007_199_254_740_993n,
      eventId: redeemed.eventId,
      eventType: redeemed.type,
      payload: Buffer.from(encodeCardEvent(redeemed)),
      createdAt: redeemed.occurredAt,
    });
    expect(GiftCardEvent.decode(message.content)).toEqual({
      eventId: redeemed.eventId,
      type: GiftCardEventType.GIFT_CARD_EVENT_TYPE_REDEEMED,
      giftCardId: 'card-7',
      eventTime: redeemed.occurredAt,
      caller: 'checkout',
      operationId: 'op-1',
      ledgerEntryId: 'entry-1',
      holdId: '',
      amount: -1_250n,
      balance: 2n ** 62n,
      availableBalance: 2n ** 62n,
      currency: 'USD',
      status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
      externalReference: 'order-1',
      userId: '',
      senderUserId: '',
      sequence: 9_007_199_254_740_993n,
    });
    expect(message.routingKey).toBe('giftcard.balance.redeemed');
    expect(message.options).toEqual({
      persistent: true,
      contentType: 'application/x-protobuf; proto=giftcard.v1.GiftCardEvent',
      type: 'GIFT_CARD_EVENT_TYPE_REDEEMED',
      messageId: redeemed.eventId,
      timestamp: Math.floor(redeemed.occurredAt.getTime() / 1000),
      appId: 'giftcard-service',
    });
  });

  it('gives every event type its own routing key', () => {
    const keys = Object.values(ROUTING_KEYS);
    expect(new Set(keys).size).toBe(Object.keys(CardEventType).length);
    for (const key of keys) expect(key).toMatch(/^giftcard\.(balance|status|wallet|hold)\.[a-z_]+$/);
  });

  it('refuses an outbox row of a type it does not know rather than guess a routing key', () => {
    expect(() =>
      amqpMessage({
        sequence: 1n,
        eventId: 'x',
        eventType: 'SOMETHING',
        payload: Buffer.alloc(0),
        createdAt: new Date(),
      }),
    ).toThrow(/unknown type SOMETHING/);
  });
});
