import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import {
  BalanceInquiryRequest,
  call,
  CombineCardsRequest,
  createGiftCardClient,
  ErrorReason,
  GiftCardCallError,
  GiftCardStatus,
  IssueVirtualCardRequest,
  RedeemRequest,
  type GiftCardServiceClient,
} from '../../client';
import { useTestService } from '../support/integration-hooks';
import type { TestService } from '../support/test-service';

/**
 * The client package as an internal service uses it: only client/'s public exports on the calling
 * side, the real server and MySQL on the other. Lock waits are short and the server does not retry
 * a conflict itself, so the client's retry policy is what a conflict meets.
 */
let svc: TestService;
let db: Connection;
let client: GiftCardServiceClient;

useTestService(
  (started) => {
    ({ svc, db } = started);
    client = createGiftCardClient(svc.address);
  },
  { DB_LOCK_WAIT_TIMEOUT_SECONDS: '1', TX_MAX_ATTEMPTS: '1' },
);

afterAll(() => {
  client.close();
});

const settings = { deadlineMs: 20_000 };

function issue(target: GiftCardServiceClient = client, amount = 5_000n) {
  return call(
    target.issueVirtualCard.bind(target),
    IssueVirtualCardRequest.fromPartial({
      idempotencyKey: `client-${randomUUID()}`,
      amount,
      currency: 'USD',
      sourceTransactionId: `purchase-${randomUUID()}`,
    }),
    settings,
  );
}

async function refusal(pending: Promise<unknown>): Promise<GiftCardCallError> {
  const outcome = await pending.then(
    () => new Error('expected the call to be refused'),
    (error: unknown) => error,
  );
  if (!(outcome instanceof GiftCardCallError)) throw outcome;
  return outcome;
}

describe('Client package', () => {
  it('issues, redeems and reads a card through the typed client', async () => {
    const card = await issue();
    const redeemed = await call(
      client.redeem.bind(client),
      RedeemRequest.fromPartial({
        idempotencyKey: `client-${randomUUID()}`,
        cardNumber: card.cardNumber,
        passcode: card.passcode,
        amount: 1_250n,
        currency: 'USD',
      }),
      settings,
    );
    expect(redeemed).toMatchObject({ giftCardId: card.giftCardId, redeemedAmount: 1_250n, balance: 3_750n });
    const inquiry = await call(
      client.balanceInquiry.bind(client),
      BalanceInquiryRequest.fromPartial({ cardNumber: card.cardNumber, passcode: card.passcode }),
      settings,
    );
    expect(inquiry).toMatchObject({ balance: 3_750n, currency: 'USD', status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE });
  });

  it('decodes a refusal into its code, its ErrorReason and the ErrorInfo metadata', async () => {
    const card = await issue();
    const error = await refusal(
      call(
        client.redeem.bind(client),
        RedeemRequest.fromPartial({
          idempotencyKey: `client-${randomUUID()}`,
          cardNumber: card.cardNumber,
          passcode: card.passcode,
          amount: 999_999n,
          currency: 'USD',
        }),
        settings,
      ),
    );
    expect(error.reason).toBe(ErrorReason.INSUFFICIENT_FUNDS);
    expect(error.details).toMatchObject({
      code: status.FAILED_PRECONDITION,
      errorInfo: {
        reason: 'INSUFFICIENT_FUNDS',
        domain: 'giftcard.v1',
        metadata: { balance: '5000', requested: '999999' },
      },
      fieldViolations: [],
    });
  });

  it('decodes invalid input into BadRequest violations named by JSON path', async () => {
    const target = await issue();
    const error = await refusal(
      call(
        client.combineCards.bind(client),
        CombineCardsRequest.fromPartial({
          idempotencyKey: `client-${randomUUID()}`,
          userId: 'client-user',
          targetGiftCardId: target.giftCardId,
          sourceGiftCardIds: [target.giftCardId, 'not-an-id'],
        }),
        settings,
      ),
    );
    expect(error.reason).toBe(ErrorReason.INVALID_ARGUMENT);
    expect(error.details.fieldViolations.map((v) => v.field)).toEqual(['sourceGiftCardIds[0]', 'sourceGiftCardIds[1]']);
  });

  describe('retry policy', () => {
    /**
     * Takes the card's row lock from outside the service, as a long transaction would, and lets it
     * go after `ms`; resolves once the lock is held.
     */
    async function lockCardFor(giftCardId: string, ms: number): Promise<{ released: Promise<void> }> {
      await db.beginTransaction();
      await db.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [giftCardId]);
      return { released: new Promise((resolve) => setTimeout(resolve, ms)).then(() => db.rollback()) };
    }

    function redeemOnce(target: GiftCardServiceClient, card: { cardNumber: string; passcode: string }) {
      return call(
        target.redeem.bind(target),
        RedeemRequest.fromPartial({
          idempotencyKey: `client-${randomUUID()}`,
          cardNumber: card.cardNumber,
          passcode: card.passcode,
          amount: 1_000n,
          currency: 'USD',
        }),
        settings,
      );
    }

    // Each attempt waits at most a second for the lock; it is held for 2.5 s, so the first attempt
    // always meets ABORTED and only a retry can get through.
    const LOCK_HELD_MS = 2_500;

    it('retries a redemption the row lock aborted, and applies it once', async () => {
      const card = await issue();
      const { released } = await lockCardFor(card.giftCardId, LOCK_HELD_MS);
      const [redeemed] = await Promise.all([redeemOnce(client, card), released]);
      expect(redeemed.balance).toBe(4_000n);
      const inquiry = await call(
        client.balanceInquiry.bind(client),
        BalanceInquiryRequest.fromPartial({ cardNumber: card.cardNumber, passcode: card.passcode }),
        settings,
      );
      expect(inquiry.balance).toBe(4_000n);
    });

    it('with retries turned off, the same call ends ABORTED, CONCURRENCY_CONFLICT', async () => {
      const noRetries = createGiftCardClient(svc.address, undefined, { 'grpc.enable_retries': 0 });
      try {
        const card = await issue(noRetries);
        const { released } = await lockCardFor(card.giftCardId, LOCK_HELD_MS);
        const [error] = await Promise.all([refusal(redeemOnce(noRetries, card)), released]);
        expect(error.reason).toBe(ErrorReason.CONCURRENCY_CONFLICT);
        expect(error.code).toBe(status.ABORTED);
      } finally {
        noRetries.close();
      }
    });
  });
});
