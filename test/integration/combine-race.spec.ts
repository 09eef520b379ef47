import { credentials, status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { GiftCardServiceClient } from '../../gen/giftcard/v1/gift_card_service';
import { GiftCardApi } from '../support/api';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { accessOf } from '../support/direct-rows';
import { assertLedgerInvariants, entryCountOf } from '../support/ledger-invariants';
import { rpcError, settle } from '../support/rpc-error';
import { rawConnection } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';

/**
 * One attempt per unit of work: a deadlock would reach the caller as ABORTED instead of being
 * retried away, so these tests see whether the lock order prevents deadlocks, not whether
 * retries hide them. A short lock wait keeps the blocked-card test quick.
 */
const STRICT = { TX_MAX_ATTEMPTS: '1', DB_LOCK_WAIT_TIMEOUT_SECONDS: '1' };

let svc: TestService;
let db: Connection;
/** A second client on its own connection, as a second device or user would be. */
let other: GiftCardApi;

beforeAll(async () => {
  svc = await startTestService(STRICT);
  db = await rawConnection();
  other = new GiftCardApi(new GiftCardServiceClient(svc.address, credentials.createInsecure()));
});

afterAll(async () => {
  other.client.close();
  await db.end();
  await svc.stop();
});

afterEach(async () => {
  await assertLedgerInvariants(db);
});

let userCounter = 0;
const newUser = (): string => `combine-race-${process.pid}-${++userCounter}`;

const combineWith = (api: GiftCardApi, userId: string, target: string, source: string) =>
  api.combineCards({ idempotencyKey: newKey(), userId, targetGiftCardId: target, sourceGiftCardIds: [source] });

const ROUNDS = 10;

describe('CombineCards under contention', () => {
  it('lets one of "A into B" and "B into A" at the same moment win; the other is refused, no deadlock', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const user = newUser();
      const a = await issueCard(svc.api, { amount: 300n, userId: user });
      const b = await issueCard(svc.api, { amount: 500n, userId: user });
      const outcomes = await Promise.all([
        settle(combineWith(svc.api, user, b.giftCardId, a.giftCardId)),
        settle(combineWith(other, user, a.giftCardId, b.giftCardId)),
      ]);

      const winners = outcomes.flatMap((o) => (o.ok ? [o.value] : []));
      const refusals = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
      expect(winners).toHaveLength(1);
      expect(refusals).toEqual([
        expect.objectContaining({ code: status.FAILED_PRECONDITION, reason: 'CARD_NOT_ACTIVE' }),
      ]);
      expect(winners[0]?.balance).toBe(800n);
      // Money moved once: one COMBINE_OUT and one COMBINE_IN between the two cards, nothing more.
      expect((await entryCountOf(db, a.giftCardId)) + (await entryCountOf(db, b.giftCardId))).toBe(4);
    }
  });

  it('lets one of a gift and a combine of the same card at the same moment win', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const [sender, recipient] = [newUser(), newUser()];
      const gifted = await issueCard(svc.api, { amount: 300n, userId: sender });
      const target = await issueCard(svc.api, { amount: 500n, userId: sender });
      const [gift, combine] = await Promise.all([
        settle(
          other.giftDigitalCard({
            idempotencyKey: newKey(),
            userId: sender,
            recipientUserId: recipient,
            giftCardId: gifted.giftCardId,
          }),
        ),
        settle(combineWith(svc.api, sender, target.giftCardId, gifted.giftCardId)),
      ]);

      expect([gift.ok, combine.ok].filter(Boolean)).toHaveLength(1);
      if (gift.ok && !combine.ok) {
        // The recipient got the card whole; the sender can no longer combine it.
        expect(combine.error).toMatchObject({ code: status.NOT_FOUND, reason: 'CARD_NOT_FOUND' });
        expect(await accessOf(db, gifted.giftCardId)).toEqual([[recipient, 'OWNER']]);
        // By the recipient's saved card: the gift gave the card new credentials nobody was shown.
        expect((await svc.api.balanceInquiry({ giftCardId: gifted.giftCardId, userId: recipient })).balance).toBe(300n);
      } else if (combine.ok && !gift.ok) {
        expect(gift.error).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'CARD_NOT_ACTIVE' });
        expect(await accessOf(db, gifted.giftCardId)).toEqual([[sender, 'OWNER']]);
        expect(combine.value.balance).toBe(800n);
      }
    }
  });

  it('gives up on cards it cannot lock with ABORTED, changes nothing, and the same key succeeds later', async () => {
    const user = newUser();
    const target = await issueCard(svc.api, { amount: 100n, userId: user });
    const source = await issueCard(svc.api, { amount: 200n, userId: user });
    const request = {
      idempotencyKey: newKey(),
      userId: user,
      targetGiftCardId: target.giftCardId,
      sourceGiftCardIds: [source.giftCardId],
    };
    // Another session holds the source's row lock for as long as the combine keeps trying.
    const blocker = await rawConnection();
    try {
      await blocker.beginTransaction();
      await blocker.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [source.giftCardId]);
      const error = await rpcError(svc.api.combineCards(request));
      expect(error).toMatchObject({ code: status.ABORTED, reason: 'CONCURRENCY_CONFLICT' });
    } finally {
      await blocker.rollback();
      await blocker.end();
    }
    expect((await svc.api.balanceInquiry(credentialsOf(target))).balance).toBe(100n);
    expect((await svc.api.combineCards(request)).balance).toBe(300n);
  });
});
