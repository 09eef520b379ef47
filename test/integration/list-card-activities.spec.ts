import { status } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { ActivityType, type CardActivity } from '../../gen/giftcard/v1/card_activity';
import { OperationType } from '../../gen/giftcard/v1/reversal';
import { ActivityType as DomainActivityType, type ActivityPosition } from '../../src/domain/card-activity';
import { TypeOrmHistoryRepository } from '../../src/persistence/history.repository';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { authorize, durationOf } from '../support/holds';
import { useTestService } from '../support/integration-hooks';
import { rpcError } from '../support/rpc-error';
import { TestClock } from '../support/test-clock';
import type { TestService } from '../support/test-service';
import { newUserId } from '../support/wallet';

const clock = new TestClock(new Date('2030-05-01T00:00:00.000Z'));
let svc: TestService;
let db: Connection;

useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  { HOLD_SWEEP_INTERVAL_MS: '0' },
  { clock },
);

type CardName = { cardNumber: string; passcode: string };

/** Every activity of the card, following the page tokens, with the page size and filter given. */
async function history(card: CardName, pageSize = 100, activityType = ActivityType.ACTIVITY_TYPE_UNSPECIFIED) {
  const activities: CardActivity[] = [];
  let pageToken = '';
  for (let page = 0; page < 1_000; page++) {
    const answer = await svc.api.listCardActivities({ ...credentialsOf(card), pageSize, pageToken, activityType });
    activities.push(...answer.activities);
    pageToken = answer.nextPageToken;
    if (pageToken === '') return activities;
  }
  throw new Error('the history did not end');
}

/** A step of the clock between calls, so each activity has its own time. */
const tick = (): void => {
  clock.advance(1_000);
};

describe('ListCardActivities', () => {
  it('lists a scripted life exactly, newest first, with balances after that follow the ledger', async () => {
    const card = await issueCard(svc.api, { amount: 5_000n });
    tick();
    const reloadKey = newKey();
    // A purchase funds once per run's database: the reference must be this test's own.
    const topUp = `top-up-${reloadKey}`;
    const reload = await svc.api.reload({
      idempotencyKey: reloadKey,
      ...credentialsOf(card),
      amount: 2_000n,
      currency: 'USD',
      sourceTransactionId: topUp,
    });
    tick();
    const hold = await authorize(svc.api, card, 1_500n, { orderId: 'order-1' });
    tick();
    const capture = await svc.api.captureHold({ idempotencyKey: newKey(), holdId: hold.holdId, amount: 1_000n });
    tick();
    const refund = await svc.api.refund({
      idempotencyKey: newKey(),
      transactionId: capture.transactionId,
      amount: 300n,
      currency: 'USD',
      sourceTransactionId: 'cancel-1',
    });
    tick();
    const transfer = await svc.api.balanceTransfer({
      idempotencyKey: newKey(),
      ...credentialsOf(card),
      amount: 500n,
      currency: 'USD',
    });
    tick();
    const reversal = await svc.api.reverseOperation({
      operationType: OperationType.OPERATION_TYPE_RELOAD,
      idempotencyKey: reloadKey,
    });
    const at = (secondsAfterIssue: number) => new Date(clock.now().getTime() - (6 - secondsAfterIssue) * 1_000);
    const line = (activity: Partial<CardActivity>): CardActivity => ({
      activityId: '',
      type: ActivityType.ACTIVITY_TYPE_UNSPECIFIED,
      amount: 0n,
      balanceAfter: 0n,
      availableBalanceAfter: 0n,
      currency: 'USD',
      occurTime: undefined,
      reference: '',
      counterpartGiftCardId: '',
      relatedTransactionId: '',
      holdId: '',
      ...activity,
    });
    const listed = await history(card);
    expect(listed).toEqual([
      line({
        activityId: reversal.transactionId,
        type: ActivityType.ACTIVITY_TYPE_REVERSAL,
        amount: -2_000n,
        balanceAfter: 3_800n,
        availableBalanceAfter: 3_800n,
        occurTime: at(6),
        reference: topUp,
        relatedTransactionId: reload.transactionId,
      }),
      line({
        activityId: transfer.debitTransactionId,
        type: ActivityType.ACTIVITY_TYPE_TRANSFER_OUT,
        amount: -500n,
        balanceAfter: 5_800n,
        availableBalanceAfter: 5_800n,
        occurTime: at(5),
        counterpartGiftCardId: transfer.giftCardId,
      }),
      line({
        activityId: refund.transactionId,
        type: ActivityType.ACTIVITY_TYPE_REFUND,
        amount: 300n,
        balanceAfter: 6_300n,
        availableBalanceAfter: 6_300n,
        occurTime: at(4),
        reference: 'cancel-1',
        relatedTransactionId: capture.transactionId,
      }),
      line({
        activityId: capture.transactionId,
        type: ActivityType.ACTIVITY_TYPE_HOLD_CAPTURED,
        amount: -1_000n,
        balanceAfter: 6_000n,
        availableBalanceAfter: 6_000n,
        occurTime: at(3),
        reference: 'order-1',
        holdId: hold.holdId,
      }),
      line({
        activityId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
        type: ActivityType.ACTIVITY_TYPE_HOLD_PLACED,
        amount: -1_500n,
        balanceAfter: 7_000n,
        availableBalanceAfter: 5_500n,
        occurTime: at(2),
        reference: 'order-1',
        holdId: hold.holdId,
      }),
      line({
        activityId: reload.transactionId,
        type: ActivityType.ACTIVITY_TYPE_RELOAD,
        amount: 2_000n,
        balanceAfter: 7_000n,
        availableBalanceAfter: 7_000n,
        occurTime: at(1),
        reference: topUp,
      }),
      line({
        activityId: card.transactionId,
        type: ActivityType.ACTIVITY_TYPE_ISSUE,
        amount: 5_000n,
        balanceAfter: 5_000n,
        availableBalanceAfter: 5_000n,
        occurTime: at(0),
        reference: expect.stringMatching(/^purchase-/) as string,
      }),
    ]);
    // Oldest first, each ledger line's balance after is the running sum of the ledger's amounts.
    let running = 0n;
    for (const activity of [...listed].reverse()) {
      if (activity.type !== ActivityType.ACTIVITY_TYPE_HOLD_PLACED) running += activity.amount;
      expect(activity.balanceAfter).toBe(running);
    }
    expect((await svc.api.balanceInquiry(credentialsOf(card))).balance).toBe(running);
    // The new card's history names the source it came from.
    const [created] = await history({ cardNumber: transfer.cardNumber, passcode: transfer.passcode });
    expect(created).toMatchObject({
      type: ActivityType.ACTIVITY_TYPE_TRANSFER_IN,
      counterpartGiftCardId: card.giftCardId,
    });
  });

  it('pages through a long history once each, in the same order as one page, hold events in their places', async () => {
    const card = await issueCard(svc.api, { amount: 10_000n });
    for (let i = 0; i < 12; i++) {
      tick();
      if (i % 3 === 0) await authorize(svc.api, card, 10n);
      else await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 1n, currency: 'USD' });
    }
    const whole = await history(card, 100);
    expect(whole).toHaveLength(13);
    for (const pageSize of [1, 2, 5, 7]) expect(await history(card, pageSize)).toEqual(whole);
    const times = whole.map((activity) => activity.occurTime!.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('filters by one activity type, and refuses a page token of another filter or another card', async () => {
    const card = await issueCard(svc.api, { amount: 10_000n });
    const holds = [];
    for (let i = 0; i < 3; i++) {
      holds.push(await authorize(svc.api, card, 10n));
      await svc.api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 1n, currency: 'USD' });
    }
    await svc.api.voidHold({ idempotencyKey: newKey(), holdId: holds[1]!.holdId });
    await svc.api.captureHold({ idempotencyKey: newKey(), holdId: holds[2]!.holdId });
    const types = async (activityType: ActivityType) => (await history(card, 1, activityType)).map((a) => a.type);
    expect(await types(ActivityType.ACTIVITY_TYPE_REDEEM)).toEqual(Array(3).fill(ActivityType.ACTIVITY_TYPE_REDEEM));
    expect(await types(ActivityType.ACTIVITY_TYPE_HOLD_PLACED)).toEqual(
      Array(3).fill(ActivityType.ACTIVITY_TYPE_HOLD_PLACED),
    );
    expect(await types(ActivityType.ACTIVITY_TYPE_HOLD_VOIDED)).toEqual([ActivityType.ACTIVITY_TYPE_HOLD_VOIDED]);
    expect(await types(ActivityType.ACTIVITY_TYPE_HOLD_CAPTURED)).toEqual([ActivityType.ACTIVITY_TYPE_HOLD_CAPTURED]);
    const first = await svc.api.listCardActivities({
      ...credentialsOf(card),
      pageSize: 1,
      activityType: ActivityType.ACTIVITY_TYPE_REDEEM,
    });
    const otherFilter = await rpcError(
      svc.api.listCardActivities({ ...credentialsOf(card), pageSize: 1, pageToken: first.nextPageToken }),
    );
    expect(otherFilter).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(otherFilter.fieldViolations.map((v) => v.field)).toEqual(['pageToken']);
    const other = await issueCard(svc.api);
    const otherCard = await rpcError(
      svc.api.listCardActivities({
        ...credentialsOf(other),
        pageSize: 1,
        pageToken: first.nextPageToken,
        activityType: ActivityType.ACTIVITY_TYPE_REDEEM,
      }),
    );
    expect(otherCard.fieldViolations.map((v) => v.field)).toEqual(['pageToken']);
    const tampered = first.nextPageToken.slice(0, -2) + (first.nextPageToken.endsWith('AA') ? 'BB' : 'AA');
    const forged = await rpcError(svc.api.listCardActivities({ ...credentialsOf(card), pageToken: tampered }));
    expect(forged.fieldViolations.map((v) => v.field)).toEqual(['pageToken']);
  });

  it('names both sides of a combine and places a hold’s expiry at its expire time', async () => {
    const user = newUserId();
    const target = await issueCard(svc.api, { amount: 1_000n, userId: user });
    const sources = [
      await issueCard(svc.api, { amount: 70n, userId: user }),
      await issueCard(svc.api, { amount: 70n, userId: user }),
    ];
    const hold = await authorize(svc.api, target, 400n, { holdDuration: durationOf(60_000) });
    clock.advance(120_000);
    await svc.api.combineCards({
      idempotencyKey: newKey(),
      userId: user,
      targetGiftCardId: target.giftCardId,
      sourceGiftCardIds: sources.map((s) => s.giftCardId),
    });
    const [secondIn, firstIn, expired] = await history(target);
    expect([firstIn, secondIn].map((a) => [a?.type, a?.counterpartGiftCardId, a?.amount])).toEqual([
      [ActivityType.ACTIVITY_TYPE_COMBINE_IN, sources[0]!.giftCardId, 70n],
      [ActivityType.ACTIVITY_TYPE_COMBINE_IN, sources[1]!.giftCardId, 70n],
    ]);
    expect(expired).toMatchObject({
      type: ActivityType.ACTIVITY_TYPE_HOLD_EXPIRED,
      amount: 400n,
      balanceAfter: 1_000n,
      availableBalanceAfter: 1_000n,
      occurTime: hold.expireTime,
      holdId: hold.holdId,
    });
    for (const [index, source] of sources.entries()) {
      expect((await history(source))[0]).toMatchObject({
        type: ActivityType.ACTIVITY_TYPE_COMBINE_OUT,
        counterpartGiftCardId: target.giftCardId,
        amount: -70n,
        balanceAfter: 0n,
      });
      expect(index).toBeLessThan(2);
    }
  });

  it('names the card either way, and refuses a wrong passcode or a user without access', async () => {
    const user = newUserId();
    const card = await issueCard(svc.api, { userId: user });
    const saved = await svc.api.listCardActivities({ giftCardId: card.giftCardId, userId: user });
    expect(saved.activities.map((a) => a.activityId)).toEqual([card.transactionId]);
    const wrong = card.passcode === '00000000' ? '11111111' : '00000000';
    expect(await rpcError(svc.api.listCardActivities({ cardNumber: card.cardNumber, passcode: wrong }))).toMatchObject({
      code: status.PERMISSION_DENIED,
      reason: 'INVALID_CARD_CREDENTIALS',
    });
    expect(
      await rpcError(svc.api.listCardActivities({ giftCardId: card.giftCardId, userId: newUserId() })),
    ).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
  });

  it.each([
    ['pageSize', { pageSize: 101 }],
    ['activityType', { activityType: ActivityType.UNRECOGNIZED }],
  ])('refuses a malformed %s with INVALID_ARGUMENT', async (field, request) => {
    const card = await issueCard(svc.api);
    const error = await rpcError(svc.api.listCardActivities({ ...credentialsOf(card), ...request }));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(error.fieldViolations.map((v) => v.field)).toEqual([field]);
  });

  describe('on a card with 5,000 ledger entries and 2,000 hold events', () => {
    const PAGE = 11;
    let cardId: bigint;

    beforeAll(async () => {
      const card = await issueCard(svc.api, { amount: 100n });
      for (let i = 0; i < 3; i++)
        await svc.api.voidHold({ idempotencyKey: newKey(), holdId: (await authorize(svc.api, card, 1n)).holdId });
      const [[row]] = await db.query<RowDataPacket[]>('SELECT id FROM gift_card WHERE public_id = ?', [
        card.giftCardId,
      ]);
      cardId = BigInt(String(row?.id));
      // Volume the API would take minutes to build: reloads of 1 each followed by a redemption of 1,
      // so the balance stays the sum of the entries.
      await db.query(
        `INSERT INTO ledger_entry (public_id, card_id, operation_id, entry_type, amount_minor, balance_after_minor,
           available_after_minor, currency, created_at)
         SELECT UUID(), ?, UUID(), IF(seq % 2 = 1, 'RELOAD', 'REDEEM'), IF(seq % 2 = 1, 1, -1),
                IF(seq % 2 = 1, 101, 100), IF(seq % 2 = 1, 101, 100), 'USD', ?
         FROM seq_1_to_5000`,
        [cardId.toString(), clock.now()],
      );
      // And 1,000 holds placed and voided among them, each with its two events.
      await db.query(
        `INSERT INTO card_hold (public_id, card_id, amount_minor, currency, status, created_at, expires_at, closed_at)
         SELECT UUID(), ?, 1, 'USD', 'VOIDED', ?, ? + INTERVAL 1 DAY, ? FROM seq_1_to_1000`,
        [cardId.toString(), clock.now(), clock.now(), clock.now()],
      );
      await db.query(
        `INSERT INTO hold_event (public_id, hold_id, card_id, event_type, amount_minor, balance_minor,
           available_after_minor, after_entry_id, occurred_at)
         SELECT UUID(), h.id, h.card_id, t.event_type, IF(t.event_type = 'PLACED', -1, 1), 100,
                IF(t.event_type = 'PLACED', 99, 100), MIN(e.id) + 5 * (h.id % 1000), ?
         FROM card_hold h JOIN ledger_entry e ON e.card_id = h.card_id
           JOIN (SELECT 'PLACED' AS event_type UNION ALL SELECT 'VOIDED') t
         WHERE h.card_id = ? AND h.status = 'VOIDED' AND h.order_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM hold_event o WHERE o.hold_id = h.id)
         GROUP BY h.id, t.event_type`,
        [clock.now(), cardId.toString()],
      );
    });

    /** The InnoDB rows and index records one page's statements read, on a connection of their own. */
    async function rowsReadFor(type: DomainActivityType | null, before: ActivityPosition): Promise<number> {
      const runner = svc.service.dataSource.createQueryRunner();
      await runner.connect();
      try {
        const repository = new TypeOrmHistoryRepository(runner.manager);
        await runner.query('FLUSH STATUS');
        const entries = await repository.entriesBefore(cardId, before, type, PAGE);
        const events = await repository.eventsBefore(cardId, before, type, PAGE);
        const counters: { Variable_name: string; Value: string }[] = await runner.query(
          "SHOW SESSION STATUS WHERE Variable_name LIKE 'Handler_read%'",
        );
        expect(entries.length + events.length).toBeGreaterThan(0);
        return counters.reduce((sum, counter) => sum + Number(counter.Value), 0);
      } finally {
        await runner.release();
      }
    }

    it('reads O(page size) rows for a page from the middle, whatever the filter', async () => {
      const [[row]] = await db.query<RowDataPacket[]>(
        `SELECT v.after_entry_id, v.id FROM hold_event v WHERE v.card_id = ?
         ORDER BY v.after_entry_id, v.id LIMIT 1 OFFSET 1000`,
        [cardId.toString()],
      );
      const afterEntry = { entryId: BigInt(String(row?.after_entry_id)), step: 0 as const, eventId: 0n };
      const afterEvent = { entryId: afterEntry.entryId, step: 1 as const, eventId: BigInt(String(row?.id)) };
      // Per row of a page of 11 and per stream: an index step, its own row by primary key, and the
      // joined hold or entry. About 5 reads per row per stream; a scan of the card's history would
      // read thousands.
      const reads: Record<string, number> = {};
      for (const type of [null, DomainActivityType.REDEEM, DomainActivityType.RELOAD, DomainActivityType.HOLD_PLACED]) {
        reads[`${type ?? 'every type'} after an entry`] = await rowsReadFor(type, afterEntry);
        reads[`${type ?? 'every type'} after an event`] = await rowsReadFor(type, afterEvent);
      }
      const tooMany = Object.entries(reads).filter(([, rows]) => rows > 2 * 6 * PAGE);
      expect({ reads, tooMany }).toEqual({ reads, tooMany: [] });
    });
  });
});
