import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { startTestService, type TestService } from '../support/test-service';

/**
 * The REST mapping through a real transcoder: grpc-gateway, built from Debian's packages by
 * build-gateway.sh, in front of the real service. Every google.api.http path is called with JSON
 * as a REST caller writes it, and refusals must bring ErrorInfo and BadRequest through.
 * `npm run check:rest` builds the gateway and runs this; not part of `npm test`.
 */
const GATEWAY = join(__dirname, '..', '..', 'dist', 'rest-gateway', 'giftcard-rest-gateway');

let svc: TestService;
let gateway: ChildProcess;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  svc = await startTestService();
  gateway = spawn(GATEWAY, ['-backend', svc.address], { stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise<string>((resolve, reject) => {
    gateway.once('error', reject);
    createInterface({ input: gateway.stdout! }).on('line', (line) => {
      const match = /^listening on (\S+)$/.exec(line);
      if (match) resolve(`http://${match[1]!}`);
    });
  });
});

afterAll(async () => {
  gateway.kill();
  await svc.stop();
  process.stdout.write(`\nHTTP calls made through grpc-gateway:\n${seen.join('\n')}\n`);
});

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function rest(method: string, path: string, body?: object): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const reply = { status: response.status, body: (await response.json()) as Record<string, unknown> };
  seen.push(`${method} ${path.split('?')[0]!} -> ${reply.status}`);
  return reply;
}

const key = (): string => `rest-${randomUUID()}`;
const details = (reply: Reply): Record<string, unknown>[] => reply.body.details as Record<string, unknown>[];

async function issue(userId?: string): Promise<Record<string, string>> {
  const reply = await rest('POST', '/giftcard/v1/virtual/issue', {
    idempotencyKey: key(),
    amount: '5000',
    currency: 'USD',
    sourceTransactionId: `purchase-${randomUUID()}`,
    ...(userId === undefined ? {} : { userId }),
  });
  expect(reply.status).toBe(200);
  return reply.body as Record<string, string>;
}

describe('REST through grpc-gateway', () => {
  it('POST /giftcard/v1/virtual/issue issues a card, int64 as JSON strings, enums by name', async () => {
    const reply = await rest('POST', '/giftcard/v1/virtual/issue', {
      idempotencyKey: key(),
      amount: '5000',
      currency: 'USD',
      sourceTransactionId: 'purchase-1',
      expireTime: '2099-01-01T00:00:00Z',
    });
    expect(reply).toMatchObject({
      status: 200,
      body: { balance: '5000', currency: 'USD', status: 'GIFT_CARD_STATUS_ACTIVE', expireTime: '2099-01-01T00:00:00Z' },
    });
  });

  it('POST reload, redeem, balanceInquiry and refund move and report money', async () => {
    const card = await issue();
    const credentials = { cardNumber: card.cardNumber, passcode: card.passcode };
    const reloaded = await rest('POST', '/giftcard/v1/reload', {
      idempotencyKey: key(),
      ...credentials,
      amount: '1000',
      currency: 'USD',
      sourceTransactionId: 'reload-1',
    });
    expect(reloaded).toMatchObject({ status: 200, body: { balance: '6000' } });
    const redeemed = await rest('POST', '/giftcard/v1/redeem', {
      idempotencyKey: key(),
      ...credentials,
      amount: '2500',
      currency: 'USD',
      orderId: 'order-1',
    });
    expect(redeemed).toMatchObject({ status: 200, body: { redeemedAmount: '2500', balance: '3500' } });
    const refunded = await rest('POST', '/giftcard/v1/refund', {
      idempotencyKey: key(),
      transactionId: redeemed.body.transactionId,
      amount: '500',
      currency: 'USD',
      sourceTransactionId: 'cancel-1',
    });
    expect(refunded).toMatchObject({
      status: 200,
      body: { refundedAmount: '500', balance: '4000', refundableAmount: '2000' },
    });
    const inquiry = await rest('POST', '/giftcard/v1/balanceInquiry', credentials);
    expect(inquiry).toMatchObject({ status: 200, body: { balance: '4000', status: 'GIFT_CARD_STATUS_ACTIVE' } });
  });

  it('POST authorize, capture and activities: a hold, its capture, and the history', async () => {
    const card = await issue();
    const credentials = { cardNumber: card.cardNumber, passcode: card.passcode };
    const held = await rest('POST', '/giftcard/v1/authorize', {
      idempotencyKey: key(),
      ...credentials,
      amount: '1200',
      currency: 'USD',
      orderId: 'order-hold',
      holdDuration: '600s',
    });
    expect(held).toMatchObject({
      status: 200,
      body: { heldAmount: '1200', balance: '5000', availableBalance: '3800' },
    });
    const captured = await rest('POST', '/giftcard/v1/capture', {
      idempotencyKey: key(),
      holdId: held.body.holdId,
      amount: '1000',
    });
    expect(captured).toMatchObject({
      status: 200,
      body: { capturedAmount: '1000', releasedAmount: '200', balance: '4000' },
    });
    const history = await rest('POST', '/giftcard/v1/activities', credentials);
    expect(history.status).toBe(200);
    expect((history.body.activities as unknown[]).length).toBeGreaterThanOrEqual(2);
  });

  it('POST block, unblock, adjust, reissue and ledger:reconcile reach the lifecycle and reconciliation RPCs', async () => {
    const card = await issue();
    const blocked = await rest('POST', '/giftcard/v1/block', {
      giftCardId: card.giftCardId,
      reason: 'reported stolen',
    });
    expect(blocked).toMatchObject({ status: 200, body: { status: 'GIFT_CARD_STATUS_BLOCKED' } });
    const unblocked = await rest('POST', '/giftcard/v1/unblock', { giftCardId: card.giftCardId, reason: 'found' });
    expect(unblocked).toMatchObject({ status: 200, body: { status: 'GIFT_CARD_STATUS_ACTIVE' } });
    const adjusted = await rest('POST', '/giftcard/v1/adjust', {
      idempotencyKey: key(),
      giftCardId: card.giftCardId,
      amount: '-250',
      currency: 'USD',
      reason: 'ADJUSTMENT_REASON_SYSTEM_ERROR',
      note: 'charged twice',
    });
    expect(adjusted).toMatchObject({ status: 200, body: { amount: '-250', balance: '4750' } });
    const reissued = await rest('POST', '/giftcard/v1/reissue', {
      idempotencyKey: key(),
      cardNumber: card.cardNumber,
      passcode: card.passcode,
    });
    expect(reissued.status).toBe(200);
    expect(reissued.body.cardNumber).not.toBe(card.cardNumber);
    const report = await rest('POST', '/giftcard/v1/ledger:reconcile', {});
    expect(report.status).toBe(200);
    expect(report.body.discrepancies ?? []).toEqual([]);
    expect(Number(report.body.cardCount)).toBeGreaterThan(0);
  });

  it('POST balanceTransfer moves the balance to a new card', async () => {
    const card = await issue();
    const reply = await rest('POST', '/giftcard/v1/balanceTransfer', {
      idempotencyKey: key(),
      cardNumber: card.cardNumber,
      passcode: card.passcode,
      currency: 'USD',
      isDeleteSourceCard: true,
    });
    expect(reply).toMatchObject({
      status: 200,
      body: { balance: '5000', sourceStatus: 'GIFT_CARD_STATUS_DEACTIVATED', status: 'TRANSFER_STATUS_COMPLETED' },
    });
  });

  it('POST savegiftcard, sharegiftcard, unsharegiftcard, gift and combine, and GET giftcards', async () => {
    const [owner, friend] = [`rest-owner-${randomUUID()}`, `rest-friend-${randomUUID()}`];
    const card = await issue();
    const saved = await rest('POST', '/giftcard/v1/savegiftcard', {
      userId: owner,
      cardNumber: card.cardNumber,
      passcode: card.passcode,
    });
    expect(saved).toMatchObject({ status: 200, body: { giftCard: { role: 'GIFT_CARD_ROLE_OWNER' } } });
    const share = { userId: owner, giftCardId: card.giftCardId, recipientUserId: friend };
    expect(await rest('POST', '/giftcard/v1/sharegiftcard', share)).toMatchObject({
      status: 200,
      body: { role: 'GIFT_CARD_ROLE_SHARED' },
    });
    expect(await rest('POST', '/giftcard/v1/unsharegiftcard', share)).toMatchObject({ status: 200 });
    const gifted = await rest('POST', '/giftcard/v1/gift', {
      idempotencyKey: key(),
      userId: owner,
      recipientUserId: friend,
      amount: '700',
      currency: 'USD',
      sourceTransactionId: 'gift-purchase-1',
    });
    expect(gifted).toMatchObject({ status: 200, body: { balance: '700', recipientUserId: friend } });
    const second = await issue(owner);
    const combined = await rest('POST', '/giftcard/v1/combine', {
      idempotencyKey: key(),
      userId: owner,
      targetGiftCardId: card.giftCardId,
      sourceGiftCardIds: [second.giftCardId],
    });
    expect(combined).toMatchObject({ status: 200, body: { balance: '10000' } });
    const listed = await rest('GET', `/giftcard/v1/giftcards?userId=${owner}&pageSize=10`);
    expect(listed.status).toBe(200);
    expect((listed.body.giftCards as unknown[]).length).toBe(2);
  });

  it('PATCH giftcards sets preferred, leaves it alone when the body omits it, and clears it on false', async () => {
    const user = `rest-user-${randomUUID()}`;
    const card = await issue(user);
    const target = { userId: user, giftCardId: card.giftCardId };
    expect(await rest('PATCH', '/giftcard/v1/giftcards', { ...target, preferred: true })).toMatchObject({
      status: 200,
      body: { giftCard: { preferred: true } },
    });
    expect(await rest('PATCH', '/giftcard/v1/giftcards', target)).toMatchObject({
      status: 200,
      body: { giftCard: { preferred: true } },
    });
    const cleared = await rest('PATCH', '/giftcard/v1/giftcards', { ...target, preferred: false });
    expect(cleared.status).toBe(200);
    expect((cleared.body.giftCard as Record<string, unknown>).preferred ?? false).toBe(false);
  });

  it('brings ErrorInfo through on a refusal, and BadRequest with the JSON names the caller sent', async () => {
    const card = await issue();
    const short = await rest('POST', '/giftcard/v1/redeem', {
      idempotencyKey: key(),
      cardNumber: card.cardNumber,
      passcode: card.passcode,
      amount: '999999',
      currency: 'USD',
    });
    expect(short.status).toBe(412); // FAILED_PRECONDITION as grpc-gateway 1.x maps it
    expect(details(short)).toEqual([
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'INSUFFICIENT_FUNDS',
        domain: 'giftcard.v1',
        metadata: { balance: '5000', requested: '999999' },
      },
    ]);
    const malformed = await rest('POST', '/giftcard/v1/reload', {
      idempotencyKey: key(),
      cardNumber: '123',
      amount: '10',
    });
    expect(malformed.status).toBe(400);
    const badRequest = details(malformed).find((d) => d['@type'] === 'type.googleapis.com/google.rpc.BadRequest');
    expect((badRequest?.fieldViolations as { field: string }[]).map((v) => v.field)).toEqual([
      'cardNumber',
      'passcode',
      'currency',
      'sourceTransactionId',
    ]);
  });

  it('answers each refusal with the HTTP status its gRPC code maps to', async () => {
    const card = await issue();
    const notFound = await rest('POST', '/giftcard/v1/refund', {
      idempotencyKey: key(),
      transactionId: randomUUID(),
      amount: '1',
      currency: 'USD',
      sourceTransactionId: 'x',
    });
    expect(notFound.status).toBe(404);
    const reusedKey = key();
    const redeem = { idempotencyKey: reusedKey, cardNumber: card.cardNumber, passcode: card.passcode, currency: 'USD' };
    expect((await rest('POST', '/giftcard/v1/redeem', { ...redeem, amount: '1' })).status).toBe(200);
    expect((await rest('POST', '/giftcard/v1/redeem', { ...redeem, amount: '2' })).status).toBe(409);
    const wrong = { cardNumber: card.cardNumber, passcode: card.passcode === '00000000' ? '11111111' : '00000000' };
    for (let attempt = 0; attempt < svc.config.passcodeMaxAttempts; attempt++) {
      expect((await rest('POST', '/giftcard/v1/balanceInquiry', wrong)).status).toBe(403);
    }
    expect((await rest('POST', '/giftcard/v1/balanceInquiry', wrong)).status).toBe(429);
  });
});
