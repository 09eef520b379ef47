import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { AdjustmentReason } from '../../gen/giftcard/v1/card_lifecycle';
import { GiftCardStatus } from '../../gen/giftcard/v1/gift_card';
import { GiftCardEventType } from '../../gen/giftcard/v1/gift_card_event';
import { newKey, newPurchase } from '../support/builders';
import { EventTap, TEST_AMQP_URL, testExchangeName, type TappedEvent } from '../support/event-tap';
import { useTestService } from '../support/integration-hooks';
import { waitForLockWaits } from '../support/lock-waits';
import { rpcError } from '../support/rpc-error';
import { rawConnection, testDatabaseName } from '../support/test-database';
import type { TestService } from '../support/test-service';
import { newUserId } from '../support/wallet';

const OPS_TOKEN = `ops-${randomUUID()}`;
const SHOP_TOKEN = `shop-${randomUUID()}`;
const KIOSK_TOKEN = `kiosk-${randomUUID()}`;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const callersFile = join(mkdtempSync(join(tmpdir(), 'lifecycle-callers-')), 'callers.json');
writeFileSync(
  callersFile,
  JSON.stringify({
    callers: [
      { name: 'ops-console', tokenSha256: sha256(OPS_TOKEN), allow: ['operators', 'read'] },
      { name: 'storefront', tokenSha256: sha256(SHOP_TOKEN), allow: ['payments', 'wallet', 'read'] },
      { name: 'kiosk', tokenSha256: sha256(KIOSK_TOKEN), allow: ['payments'] },
    ],
  }),
);

let svc: TestService;
let tap: EventTap;
const exchange = testExchangeName();

useTestService(
  (started) => {
    ({ svc } = started);
  },
  { CALLERS_FILE: callersFile, EVENTS_AMQP_URL: TEST_AMQP_URL, EVENTS_EXCHANGE: exchange },
);

beforeAll(async () => {
  tap = await EventTap.open(exchange);
});

afterAll(async () => {
  await tap.close({ deleteExchange: true });
});

const asShop = { bearerToken: SHOP_TOKEN };
const asKiosk = { bearerToken: KIOSK_TOKEN };
const asOps = { bearerToken: OPS_TOKEN };
const T = GiftCardEventType;

function issueAsShop(userId = '') {
  return svc.api.issueVirtualCard(
    { idempotencyKey: newKey(), amount: 5_000n, currency: 'USD', sourceTransactionId: newPurchase(), userId },
    asShop,
  );
}

function eventsOf(giftCardId: string, count: number): Promise<TappedEvent[]> {
  return tap.waitFor(count, (tapped) => tapped.event.giftCardId === giftCardId);
}

describe('Operator RPCs belong to the operators group', () => {
  it('refuses BlockCard, UnblockCard and AdjustBalance to a caller without it (PERMISSION_DENIED), changing nothing', async () => {
    const card = await issueAsShop();
    const refused = { code: status.PERMISSION_DENIED, reason: 'CALLER_NOT_ALLOWED' };
    expect(await rpcError(svc.api.blockCard({ giftCardId: card.giftCardId, reason: 'x' }, asShop))).toMatchObject(
      refused,
    );
    expect(await rpcError(svc.api.unblockCard({ giftCardId: card.giftCardId, reason: 'x' }, asShop))).toMatchObject(
      refused,
    );
    const adjust = svc.api.adjustBalance(
      {
        idempotencyKey: newKey(),
        giftCardId: card.giftCardId,
        amount: 100n,
        currency: 'USD',
        reason: AdjustmentReason.ADJUSTMENT_REASON_GOODWILL,
        note: 'n',
      },
      asShop,
    );
    expect(await rpcError(adjust)).toMatchObject(refused);
    const inquiry = await svc.api.balanceInquiry({ cardNumber: card.cardNumber, passcode: card.passcode }, asShop);
    expect(inquiry).toMatchObject({ status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE, balance: 5_000n });
  });

  it('lets a caller with the operators group block, unblock and adjust', async () => {
    const card = await issueAsShop();
    expect((await svc.api.blockCard({ giftCardId: card.giftCardId, reason: 'stolen' }, asOps)).status).toBe(
      GiftCardStatus.GIFT_CARD_STATUS_BLOCKED,
    );
    expect((await svc.api.unblockCard({ giftCardId: card.giftCardId, reason: 'found' }, asOps)).status).toBe(
      GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
    );
    const adjusted = await svc.api.adjustBalance(
      {
        idempotencyKey: newKey(),
        giftCardId: card.giftCardId,
        amount: -100n,
        currency: 'USD',
        reason: AdjustmentReason.ADJUSTMENT_REASON_SYSTEM_ERROR,
        note: 'double credit',
      },
      asOps,
    );
    expect(adjusted.balance).toBe(4_900n);
  });
});

describe('Events name the authenticated caller', () => {
  it('announces balance changes, blocks, adjustments and reissues with the service that asked for each', async () => {
    const owner = newUserId('owner');
    const card = await issueAsShop(owner);
    await svc.api.redeem(
      { idempotencyKey: newKey(), cardNumber: card.cardNumber, passcode: card.passcode, amount: 500n, currency: 'USD' },
      asShop,
    );
    await svc.api.blockCard({ giftCardId: card.giftCardId, reason: 'stolen' }, asOps);
    const refusedAdjustment = svc.api.adjustBalance(
      {
        idempotencyKey: newKey(),
        giftCardId: card.giftCardId,
        amount: -200n,
        currency: 'USD',
        reason: AdjustmentReason.ADJUSTMENT_REASON_FRAUD,
        note: 'n',
      },
      asOps,
    );
    // A blocked card takes no adjustment either, and a refusal announces nothing.
    expect(await rpcError(refusedAdjustment)).toMatchObject({ reason: 'CARD_BLOCKED' });
    const reissued = await svc.api.reissueCredentials(
      { idempotencyKey: newKey(), giftCardId: card.giftCardId, userId: owner },
      asShop,
    );
    await svc.api.unblockCard({ giftCardId: card.giftCardId, reason: 'new credentials' }, asOps);
    const credit = await svc.api.adjustBalance(
      {
        idempotencyKey: newKey(),
        giftCardId: card.giftCardId,
        amount: 300n,
        currency: 'USD',
        reason: AdjustmentReason.ADJUSTMENT_REASON_GOODWILL,
        note: 'sorry',
      },
      asOps,
    );

    const events = await eventsOf(card.giftCardId, 7);
    expect(events.map((tapped) => [tapped.event.type, tapped.event.caller])).toEqual([
      [T.GIFT_CARD_EVENT_TYPE_ISSUED, 'storefront'],
      [T.GIFT_CARD_EVENT_TYPE_SAVED, 'storefront'],
      [T.GIFT_CARD_EVENT_TYPE_REDEEMED, 'storefront'],
      [T.GIFT_CARD_EVENT_TYPE_STATUS_CHANGED, 'ops-console'],
      [T.GIFT_CARD_EVENT_TYPE_CREDENTIALS_REISSUED, 'storefront'],
      [T.GIFT_CARD_EVENT_TYPE_STATUS_CHANGED, 'ops-console'],
      [T.GIFT_CARD_EVENT_TYPE_ADJUSTED, 'ops-console'],
    ]);
    expect(events.map((tapped) => tapped.event.status)).toEqual([
      GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
      GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
      GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
      GiftCardStatus.GIFT_CARD_STATUS_BLOCKED,
      GiftCardStatus.GIFT_CARD_STATUS_BLOCKED,
      GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
      GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
    ]);
    expect(events[4]?.routingKey).toBe('giftcard.wallet.credentials_reissued');
    expect(events[6]).toMatchObject({
      routingKey: 'giftcard.balance.adjusted',
      event: expect.objectContaining({ ledgerEntryId: credit.transactionId, amount: 300n, balance: 4_800n }) as unknown,
    });
    for (const tapped of events) {
      for (const secret of [card.cardNumber, card.passcode, reissued.cardNumber, reissued.passcode]) {
        expect(tapped.content.toString('latin1')).not.toContain(secret);
      }
    }
  });

  it("names each batched call's own caller, whoever started the batch", async () => {
    const card = await issueAsShop();
    const redeemAs = (as: { bearerToken: string }) =>
      svc.api.redeem(
        {
          idempotencyKey: newKey(),
          cardNumber: card.cardNumber,
          passcode: card.passcode,
          amount: 100n,
          currency: 'USD',
        },
        as,
      );
    const locker = await rawConnection();
    let redeemed: { transactionId: string }[];
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [card.giftCardId]);
      // The kiosk's call waits for the row inside the database; the two behind it wait in the
      // card's line and go together in the next transaction, started when the kiosk's ends.
      const first = redeemAs(asKiosk);
      await waitForLockWaits(locker, testDatabaseName(), 1);
      const second = redeemAs(asShop);
      while (svc.service.app.cardLines.waiting() < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      const third = redeemAs(asKiosk);
      while (svc.service.app.cardLines.waiting() < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      await locker.query('ROLLBACK');
      redeemed = await Promise.all([first, second, third]);
    } finally {
      await locker.end();
    }
    const events = await eventsOf(card.giftCardId, 4);
    const callerOf = (transactionId: string) =>
      events.find((tapped) => tapped.event.ledgerEntryId === transactionId)?.event.caller;
    expect(redeemed.map((answer) => callerOf(answer.transactionId))).toEqual(['kiosk', 'storefront', 'kiosk']);
  });
});
