import type { Connection, RowDataPacket } from 'mysql2/promise';
import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { GiftCardEventType } from '../../gen/giftcard/v1/gift_card_event';
import { OperationType } from '../../gen/giftcard/v1/reversal';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { entriesOf } from '../support/direct-rows';
import { EventTap, TEST_AMQP_URL, testExchangeName, type TappedEvent } from '../support/event-tap';
import { authorize } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { rpcError } from '../support/rpc-error';
import type { TestService } from '../support/test-service';
import { newUserId, saveCard } from '../support/wallet';

let svc: TestService;
let db: Connection;
let tap: EventTap;
const exchange = testExchangeName();

useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { EVENTS_AMQP_URL: TEST_AMQP_URL, EVENTS_EXCHANGE: exchange },
);

beforeAll(async () => {
  tap = await EventTap.open(exchange);
});

afterAll(async () => {
  await tap.close({ deleteExchange: true });
});

const T = GiftCardEventType;

/** Waits for the card's first `count` events and returns them in the order they arrived. */
async function eventsOf(card: { giftCardId: string }, count: number): Promise<TappedEvent[]> {
  return tap.waitFor(count, (tapped) => tapped.event.giftCardId === card.giftCardId);
}

const typesOf = (tapped: readonly TappedEvent[]): GiftCardEventType[] => tapped.map((t) => t.event.type);

/**
 * The card's events, checked to be all there are: every outbox row of the card is sent and the
 * tap saw as many events as there are rows.
 */
async function exactlyEventsOf(card: { giftCardId: string }, count: number): Promise<TappedEvent[]> {
  const events = await eventsOf(card, count);
  for (let i = 0; ; i++) {
    const [[row]] = await db.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS total, COALESCE(SUM(o.sent_at IS NULL), 0) AS unsent
       FROM event_outbox o JOIN gift_card c ON c.id = o.card_id WHERE c.public_id = ?`,
      [card.giftCardId],
    );
    if (Number(row?.unsent) === 0) {
      expect(Number(row?.total)).toBe(count);
      break;
    }
    if (i > 400) throw new Error(`card ${card.giftCardId} still has ${String(row?.unsent)} unsent events`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(tap.forCard(card.giftCardId)).toHaveLength(count);
  return events;
}

describe('IssueVirtualCard events', () => {
  it('publishes ISSUED, persistent and typed, with the new balance, the ledger entry and the purchase', async () => {
    const before = Date.now();
    const card = await issueCard(svc.api, { amount: 4_200n, currency: 'EUR' });
    const [issued] = await exactlyEventsOf(card, 1);

    expect(issued?.routingKey).toBe('giftcard.balance.issued');
    expect(issued?.persistent).toBe(true);
    expect(issued?.properties).toMatchObject({
      contentType: 'application/x-protobuf; proto=giftcard.v1.GiftCardEvent',
      type: 'GIFT_CARD_EVENT_TYPE_ISSUED',
      messageId: issued?.event.eventId,
      appId: 'giftcard-service',
    });
    const [entry] = await entriesOf(db, card.giftCardId);
    expect(issued?.event).toMatchObject({
      type: T.GIFT_CARD_EVENT_TYPE_ISSUED,
      giftCardId: card.giftCardId,
      ledgerEntryId: card.transactionId,
      operationId: entry?.operationId,
      amount: 4_200n,
      balance: 4_200n,
      availableBalance: 4_200n,
      currency: 'EUR',
      status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
      userId: '',
    });
    expect(issued?.event.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(issued?.event.externalReference).toMatch(/^purchase-/);
    expect(issued?.event.eventTime?.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(issued?.event.eventTime?.getTime()).toBeLessThanOrEqual(Date.now());
    expect(issued?.properties.timestamp).toBe(Math.floor((issued?.event.eventTime?.getTime() ?? 0) / 1000));
    expect(issued?.event.sequence).toBeGreaterThan(0n);
  });

  it('never carries the card number or the passcode', async () => {
    const card = await issueCard(svc.api, { userId: newUserId() });
    for (const tapped of await exactlyEventsOf(card, 2)) {
      const body = tapped.content.toString('latin1');
      expect(body).not.toContain(card.cardNumber);
      expect(body).not.toContain(card.passcode);
      expect(JSON.stringify(tapped.properties)).not.toContain(card.cardNumber);
    }
  });

  it('with a userId, announces the owner with SAVED after ISSUED', async () => {
    const owner = newUserId();
    const card = await issueCard(svc.api, { userId: owner });
    const events = await exactlyEventsOf(card, 2);
    expect(typesOf(events)).toEqual([T.GIFT_CARD_EVENT_TYPE_ISSUED, T.GIFT_CARD_EVENT_TYPE_SAVED]);
    expect(events[1]).toMatchObject({ routingKey: 'giftcard.wallet.saved', event: { userId: owner, amount: 0n } });
  });
});

describe('Reload events', () => {
  it('publishes RELOADED with the amount, the balance after and the funding reference', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const reloaded = await svc.api.reload({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 300n,
      currency: 'USD',
      sourceTransactionId: 'top-up-77',
    });
    const [, event] = await exactlyEventsOf(card, 2);
    expect(event?.routingKey).toBe('giftcard.balance.reloaded');
    expect(event?.event).toMatchObject({
      type: T.GIFT_CARD_EVENT_TYPE_RELOADED,
      ledgerEntryId: reloaded.transactionId,
      amount: 300n,
      balance: 1_300n,
      availableBalance: 1_300n,
      externalReference: 'top-up-77',
    });
  });
});

describe('Redeem events', () => {
  it('publishes REDEEMED with the amount taken as a debit and the order id', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const redeemed = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 2_500n,
      currency: 'USD',
      orderId: 'order-9',
      allowPartial: true,
    });
    const [, event] = await exactlyEventsOf(card, 2);
    expect(event?.routingKey).toBe('giftcard.balance.redeemed');
    expect(event?.event).toMatchObject({
      type: T.GIFT_CARD_EVENT_TYPE_REDEEMED,
      ledgerEntryId: redeemed.transactionId,
      amount: -1_000n,
      balance: 0n,
      externalReference: 'order-9',
    });
  });

  it('publishes nothing for a refused redemption, a wrong passcode or a replay', async () => {
    const card = await issueCard(svc.api, { amount: 100n });
    const key = newKey();
    const request = { idempotencyKey: key, ...credentialsOf(card), amount: 40n, currency: 'USD' };
    await svc.api.redeem(request);
    await svc.api.redeem(request);
    await rpcError(svc.api.redeem({ ...request, idempotencyKey: newKey(), amount: 500n }));
    await rpcError(svc.api.redeem({ ...request, idempotencyKey: newKey(), passcode: '00000000' }));
    expect(typesOf(await exactlyEventsOf(card, 2))).toEqual([
      T.GIFT_CARD_EVENT_TYPE_ISSUED,
      T.GIFT_CARD_EVENT_TYPE_REDEEMED,
    ]);
  });
});

describe('Refund events', () => {
  it('publishes REFUNDED on the card the money returns to, with the cancellation reference', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const redeemed = await svc.api.redeem({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 600n,
      currency: 'USD',
    });
    const refunded = await svc.api.refund({
      idempotencyKey: newKey(),
      transactionId: redeemed.transactionId,
      amount: 250n,
      currency: 'USD',
      sourceTransactionId: 'cancel-1',
    });
    const [, , event] = await exactlyEventsOf(card, 3);
    expect(event).toMatchObject({
      routingKey: 'giftcard.balance.refunded',
      event: {
        type: T.GIFT_CARD_EVENT_TYPE_REFUNDED,
        ledgerEntryId: refunded.transactionId,
        amount: 250n,
        balance: 650n,
        externalReference: 'cancel-1',
      },
    });
  });
});

describe('BalanceTransfer events', () => {
  it('publishes TRANSFERRED_OUT on the source and TRANSFERRED_IN on the new card, under one operation id', async () => {
    const source = await issueCard(svc.api, { amount: 1_000n });
    const result = await svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      ...credentialsOf(source),
      amount: 400n,
      currency: 'USD',
    });
    const [, out] = await exactlyEventsOf(source, 2);
    const [into] = await exactlyEventsOf({ giftCardId: result.giftCardId }, 1);
    expect(out).toMatchObject({
      routingKey: 'giftcard.balance.transferred_out',
      event: { ledgerEntryId: result.debitTransactionId, amount: -400n, balance: 600n },
    });
    expect(into).toMatchObject({
      routingKey: 'giftcard.balance.transferred_in',
      event: { ledgerEntryId: result.transactionId, amount: 400n, balance: 400n },
    });
    expect(into?.event.operationId).toBe(out?.event.operationId);
  });

  it('deleting the source also announces its status DEACTIVATED, and the new card saved to its owner', async () => {
    const owner = newUserId();
    const source = await issueCard(svc.api, { amount: 700n, userId: owner });
    const result = await svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      ...credentialsOf(source),
      currency: 'USD',
      isDeleteSourceCard: true,
    });
    const sourceEvents = await exactlyEventsOf(source, 4);
    expect(typesOf(sourceEvents)).toEqual([
      T.GIFT_CARD_EVENT_TYPE_ISSUED,
      T.GIFT_CARD_EVENT_TYPE_SAVED,
      T.GIFT_CARD_EVENT_TYPE_TRANSFERRED_OUT,
      T.GIFT_CARD_EVENT_TYPE_STATUS_CHANGED,
    ]);
    expect(sourceEvents[3]).toMatchObject({
      routingKey: 'giftcard.status.changed',
      event: { status: GiftCardStatus.GIFT_CARD_STATUS_DEACTIVATED, balance: 0n, amount: 0n },
    });
    expect(sourceEvents[3]?.event.operationId).toBe(sourceEvents[2]?.event.operationId);
    const newCardEvents = await exactlyEventsOf({ giftCardId: result.giftCardId }, 2);
    expect(typesOf(newCardEvents)).toEqual([T.GIFT_CARD_EVENT_TYPE_TRANSFERRED_IN, T.GIFT_CARD_EVENT_TYPE_SAVED]);
    expect(newCardEvents[1]?.event.userId).toBe(owner);
  });
});

describe('CombineCards events', () => {
  it('publishes COMBINED_OUT and STATUS_CHANGED per source and COMBINED_IN per source on the target', async () => {
    const user = newUserId();
    const target = await issueCard(svc.api, { amount: 100n, userId: user });
    const full = await issueCard(svc.api, { amount: 250n, userId: user });
    const empty = await issueCard(svc.api, { amount: 10n, userId: user });
    await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(empty), amount: 10n, currency: 'USD' });
    const result = await svc.api.combineCards({
      idempotencyKey: newKey(),
      userId: user,
      targetGiftCardId: target.giftCardId,
      sourceGiftCardIds: [full.giftCardId, empty.giftCardId],
    });

    const fullEvents = (await exactlyEventsOf(full, 4)).slice(2);
    expect(fullEvents.map((e) => e.routingKey)).toEqual(['giftcard.balance.combined_out', 'giftcard.status.changed']);
    // Each event shows the card as the operation left it: already COMBINED when its money left.
    expect(fullEvents.map((e) => [e.event.amount, e.event.balance, e.event.status])).toEqual([
      [-250n, 0n, GiftCardStatus.GIFT_CARD_STATUS_COMBINED],
      [0n, 0n, GiftCardStatus.GIFT_CARD_STATUS_COMBINED],
    ]);
    // An empty source moves nothing, so it has no entry, but its status still changes.
    const emptyEvents = (await exactlyEventsOf(empty, 4)).slice(3);
    expect(emptyEvents.map((e) => [e.routingKey, e.event.ledgerEntryId, e.event.status])).toEqual([
      ['giftcard.status.changed', '', GiftCardStatus.GIFT_CARD_STATUS_COMBINED],
    ]);
    const targetEvents = (await exactlyEventsOf(target, 3)).slice(2);
    expect(targetEvents.map((e) => [e.routingKey, e.event.amount, e.event.balance])).toEqual([
      ['giftcard.balance.combined_in', 250n, 350n],
    ]);
    expect(new Set([...fullEvents, ...emptyEvents, ...targetEvents].map((e) => e.event.operationId))).toEqual(
      new Set([result.transactionId]),
    );
  });
});

describe('Wallet events', () => {
  it('SaveGiftCard publishes SAVED once: saving again changes nothing', async () => {
    const card = await issueCard(svc.api);
    const user = newUserId();
    await saveCard(svc.api, user, card);
    await saveCard(svc.api, user, card);
    const [, saved] = await exactlyEventsOf(card, 2);
    expect(saved).toMatchObject({ routingKey: 'giftcard.wallet.saved', event: { userId: user, balance: 10_000n } });
  });

  it('ShareGiftCard publishes SHARED once, UnshareGiftCard UNSHARED once', async () => {
    const owner = newUserId();
    const friend = newUserId();
    const card = await issueCard(svc.api, { userId: owner });
    const share = { userId: owner, giftCardId: card.giftCardId, recipientUserId: friend };
    await svc.api.shareGiftCard(share);
    await svc.api.shareGiftCard(share);
    await svc.api.unshareGiftCard(share);
    await svc.api.unshareGiftCard(share);
    const events = (await exactlyEventsOf(card, 4)).slice(2);
    expect(events.map((e) => [e.routingKey, e.event.userId])).toEqual([
      ['giftcard.wallet.shared', friend],
      ['giftcard.wallet.unshared', friend],
    ]);
    // Each names the request that made it, as every event does.
    expect(new Set(events.map((e) => e.event.operationId)).size).toBe(2);
    for (const e of events) expect(e.event.operationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GiftDigitalCard of a new card publishes ISSUED, then GIFTED naming recipient and sender', async () => {
    const sender = newUserId();
    const recipient = newUserId();
    const gift = await svc.api.giftDigitalCard({
      idempotencyKey: newKey(),
      userId: sender,
      recipientUserId: recipient,
      amount: 2_500n,
      currency: 'USD',
      sourceTransactionId: 'purchase-gift',
    });
    const events = await exactlyEventsOf(gift, 2);
    expect(typesOf(events)).toEqual([T.GIFT_CARD_EVENT_TYPE_ISSUED, T.GIFT_CARD_EVENT_TYPE_GIFTED]);
    expect(events[1]).toMatchObject({
      routingKey: 'giftcard.wallet.gifted',
      event: { userId: recipient, senderUserId: sender, balance: 2_500n },
    });
  });

  it('GiftDigitalCard of an owned card publishes CREDENTIALS_REISSUED, then GIFTED naming the new owner and the giver', async () => {
    const sender = newUserId();
    const recipient = newUserId();
    const card = await issueCard(svc.api, { userId: sender });
    await svc.api.giftDigitalCard({
      idempotencyKey: newKey(),
      userId: sender,
      recipientUserId: recipient,
      giftCardId: card.giftCardId,
    });
    const [, , reissued, gifted] = await exactlyEventsOf(card, 4);
    expect(reissued).toMatchObject({
      routingKey: 'giftcard.wallet.credentials_reissued',
      event: { type: T.GIFT_CARD_EVENT_TYPE_CREDENTIALS_REISSUED },
    });
    expect(gifted).toMatchObject({
      event: { type: T.GIFT_CARD_EVENT_TYPE_GIFTED, userId: recipient, senderUserId: sender },
    });
  });
});

describe('Hold events', () => {
  it('publishes HOLD_PLACED and HOLD_VOIDED with the available balance, and a capture as REDEEMED naming its hold', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const captured = await authorize(svc.api, card, 300n, { orderId: 'order-h1' });
    const voided = await authorize(svc.api, card, 200n);
    const capture = await svc.api.captureHold({ idempotencyKey: newKey(), holdId: captured.holdId, amount: 250n });
    await svc.api.voidHold({ idempotencyKey: newKey(), holdId: voided.holdId });
    const [, placed, placedToo, redeemed, released] = await exactlyEventsOf(card, 5);

    expect([placed, placedToo, redeemed, released].map((t) => t?.routingKey)).toEqual([
      'giftcard.hold.placed',
      'giftcard.hold.placed',
      'giftcard.balance.redeemed',
      'giftcard.hold.voided',
    ]);
    expect(placed?.event).toMatchObject({
      type: T.GIFT_CARD_EVENT_TYPE_HOLD_PLACED,
      holdId: captured.holdId,
      ledgerEntryId: '',
      amount: 0n,
      balance: 1_000n,
      availableBalance: 700n,
      externalReference: 'order-h1',
    });
    expect(redeemed?.event).toMatchObject({
      type: T.GIFT_CARD_EVENT_TYPE_REDEEMED,
      holdId: captured.holdId,
      ledgerEntryId: capture.transactionId,
      amount: -250n,
      balance: 750n,
      availableBalance: 550n,
    });
    expect(released?.event).toMatchObject({
      type: T.GIFT_CARD_EVENT_TYPE_HOLD_VOIDED,
      holdId: voided.holdId,
      balance: 750n,
      availableBalance: 750n,
    });
  });

  it('publishes HOLD_EXPIRED at the hold’s expire time, once the card is next locked', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const hold = await authorize(svc.api, card, 400n, { holdDuration: { seconds: 1n, nanos: 0 } });
    await new Promise((resolve) => setTimeout(resolve, hold.expireTime!.getTime() - Date.now() + 50));
    expect((await svc.api.balanceInquiry(credentialsOf(card))).availableBalance).toBe(1_000n);
    const [, , expired] = await exactlyEventsOf(card, 3);
    expect(expired?.routingKey).toBe('giftcard.hold.expired');
    expect(expired?.event).toMatchObject({
      type: T.GIFT_CARD_EVENT_TYPE_HOLD_EXPIRED,
      holdId: hold.holdId,
      eventTime: hold.expireTime,
      availableBalance: 1_000n,
    });
  });
});

describe('ReverseOperation events', () => {
  it('publishes REVERSED for the entry that undoes a call, and STATUS_CHANGED for an issue undone', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    const idempotencyKey = newKey();
    await svc.api.redeem({ idempotencyKey, ...credentialsOf(card), amount: 300n, currency: 'USD' });
    const reversal = await svc.api.reverseOperation({
      operationType: OperationType.OPERATION_TYPE_REDEEM,
      idempotencyKey,
    });
    const [, , reversed] = await exactlyEventsOf(card, 3);
    expect(reversed?.routingKey).toBe('giftcard.balance.reversed');
    expect(reversed?.event).toMatchObject({
      type: T.GIFT_CARD_EVENT_TYPE_REVERSED,
      ledgerEntryId: reversal.transactionId,
      amount: 300n,
      balance: 1_000n,
    });

    const issueKey = newKey();
    const issued = await svc.api.issueVirtualCard({
      idempotencyKey: issueKey,
      amount: 500n,
      currency: 'USD',
      sourceTransactionId: newKey(),
    });
    await svc.api.reverseOperation({
      operationType: OperationType.OPERATION_TYPE_ISSUE_VIRTUAL_CARD,
      idempotencyKey: issueKey,
    });
    expect(typesOf(await exactlyEventsOf(issued, 3))).toEqual([
      T.GIFT_CARD_EVENT_TYPE_ISSUED,
      T.GIFT_CARD_EVENT_TYPE_REVERSED,
      T.GIFT_CARD_EVENT_TYPE_STATUS_CHANGED,
    ]);
  });
});

describe('Event order per card', () => {
  it('delivers a card’s events in the order of its ledger, with rising sequence numbers', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    for (let i = 1; i <= 12; i++) {
      const request = { idempotencyKey: newKey(), ...credentialsOf(card), amount: BigInt(i), currency: 'USD' };
      if (i % 3 === 0) await svc.api.reload({ ...request, sourceTransactionId: newKey() });
      else await svc.api.redeem(request);
    }
    const events = await exactlyEventsOf(card, 13);
    const entries = await entriesOf(db, card.giftCardId);
    expect(events.map((e) => e.event.ledgerEntryId)).toEqual(entries.map((e) => e.publicId));
    const sequences = events.map((e) => e.event.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(sequences).size).toBe(sequences.length);
  });
});

describe('Events of changes that roll back', () => {
  /** Runs `work` while the named table refuses inserts matching `when` (a trigger of this test only). */
  async function whileInsertsFail(table: string, when: string, work: () => Promise<unknown>): Promise<void> {
    await db.query(`CREATE TRIGGER test_refuse_insert BEFORE INSERT ON ${table} FOR EACH ROW
      BEGIN IF ${when} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF; END`);
    try {
      await work();
    } finally {
      await db.query('DROP TRIGGER test_refuse_insert');
    }
  }

  it('publishes none of the events a change added before it failed and rolled back', async () => {
    const source = await issueCard(svc.api, { amount: 1_000n });
    // The transfer posts its debit, with its event, then fails on the new card's entry.
    await whileInsertsFail('ledger_entry', "NEW.entry_type = 'TRANSFER_IN'", async () => {
      await rpcError(
        svc.api.balanceTransfer({ idempotencyKey: newKey(), ...credentialsOf(source), amount: 400n, currency: 'USD' }),
      );
    });
    expect((await entriesOf(db, source.giftCardId)).map((entry) => entry.type)).toEqual(['ISSUE']);
    expect(typesOf(await exactlyEventsOf(source, 1))).toEqual([T.GIFT_CARD_EVENT_TYPE_ISSUED]);
  });

  it('rolls the change back when its events cannot be written: no change goes unannounced', async () => {
    const card = await issueCard(svc.api, { amount: 1_000n });
    await whileInsertsFail('event_outbox', "NEW.event_type = 'REDEEMED'", async () => {
      await rpcError(
        svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 400n, currency: 'USD' }),
      );
    });
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(1_000n);
    expect((await entriesOf(db, card.giftCardId)).map((entry) => entry.type)).toEqual(['ISSUE']);
    expect(typesOf(await exactlyEventsOf(card, 1))).toEqual([T.GIFT_CARD_EVENT_TYPE_ISSUED]);
  });
});
