import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Connection } from 'mysql2/promise';
import { canonicalize, encodeResult } from '../../src/application/replay-codec';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { useTestService } from '../support/integration-hooks';
import { rpcError, settle } from '../support/rpc-error';
import type { TestService } from '../support/test-service';

/**
 * Issue 10, point 1: a retry answered from its idempotency key must not tell a right passcode from
 * a wrong one. The attack: a committed call's key is known (or guessable, `redeem-1001`), and the
 * attacker resends it with passcode after passcode; before the fix every wrong one was answered
 * ALREADY_EXISTS and the right one with the stored reply, with no attempt counted.
 */
let svc: TestService;
let db: Connection;

useTestService((started) => {
  ({ svc, db } = started);
});

type Card = { cardNumber: string; passcode: string; giftCardId: string };

const wrongPasscode = (passcode: string, offset = 1): string =>
  ((Number(passcode) + offset) % 100_000_000).toString().padStart(8, '0');

const asJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v.toString()}n` : v));

/** Each RPC that names its card by number and passcode and takes an idempotency key. */
const keyedCredentialCalls: [string, (card: Card, key: string, passcode: string) => Promise<unknown>][] = [
  [
    'Redeem',
    (card, key, passcode) =>
      svc.api.redeem({ idempotencyKey: key, cardNumber: card.cardNumber, passcode, amount: 100n, currency: 'USD' }),
  ],
  [
    'Reload',
    (card, key, passcode) =>
      svc.api.reload({
        idempotencyKey: key,
        cardNumber: card.cardNumber,
        passcode,
        amount: 100n,
        currency: 'USD',
        sourceTransactionId: `reload-${key}`,
      }),
  ],
  [
    'BalanceTransfer',
    (card, key, passcode) =>
      svc.api.balanceTransfer({
        idempotencyKey: key,
        cardNumber: card.cardNumber,
        passcode,
        amount: 100n,
        currency: 'USD',
      }),
  ],
  [
    'SaveGiftCard',
    (card, key, passcode) =>
      svc.api.saveGiftCard({ idempotencyKey: key, userId: `saver-${key}`, cardNumber: card.cardNumber, passcode }),
  ],
];

describe('Replay of a call that names its card by number and passcode', () => {
  it('judges at most 5 of 400 passcodes sent with a committed Redeem key, the right one included', async () => {
    const card = await issueCard(svc.api);
    const key = `redeem-${newKey()}`;
    const redeemWith = (passcode: string) =>
      svc.api.redeem({ idempotencyKey: key, cardNumber: card.cardNumber, passcode, amount: 1_250n, currency: 'USD' });
    await redeemWith(card.passcode);
    const outcomes: string[] = [];
    for (let guess = 1; guess <= 400; guess++) {
      // The attacker's list happens to hold the right passcode at guess 200.
      const passcode = guess === 200 ? card.passcode : wrongPasscode(card.passcode, guess);
      const outcome = await settle(redeemWith(passcode));
      outcomes.push(outcome.ok ? 'OK' : `${outcome.error.codeName}/${outcome.error.reason ?? ''}`);
    }
    const counts = Object.fromEntries([...new Set(outcomes)].map((o) => [o, outcomes.filter((x) => x === o).length]));
    expect(counts).toEqual({
      'PERMISSION_DENIED/INVALID_CARD_CREDENTIALS': 5,
      'RESOURCE_EXHAUSTED/PASSCODE_LOCKED': 395,
    });
  });

  it.each(keyedCredentialCalls.map(([name]) => name))(
    '%s: a used key with a wrong passcode is a wrong passcode, counted towards the lockout',
    async (name) => {
      const call = keyedCredentialCalls.find(([n]) => n === name)![1];
      const card = await issueCard(svc.api);
      const key = newKey();
      await call(card, key, card.passcode);
      for (let guess = 1; guess <= 5; guess++) {
        const refused = await rpcError(call(card, key, wrongPasscode(card.passcode, guess)));
        expect(refused).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'INVALID_CARD_CREDENTIALS' });
      }
      const locked = await rpcError(svc.api.balanceInquiry(credentialsOf(card)));
      expect(locked).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'PASSCODE_LOCKED' });
    },
  );

  it.each(keyedCredentialCalls.map(([name]) => name))(
    '%s: a used key with the right passcode replays the first answer field for field',
    async (name) => {
      const call = keyedCredentialCalls.find(([n]) => n === name)![1];
      const card = await issueCard(svc.api);
      const key = newKey();
      const first = await call(card, key, card.passcode);
      expect(asJson(await call(card, key, card.passcode))).toBe(asJson(first));
    },
  );

  it('honours the lockout before replaying: the right passcode on a locked card gets PASSCODE_LOCKED', async () => {
    const card = await issueCard(svc.api);
    const key = newKey();
    const request = { idempotencyKey: key, ...credentialsOf(card), amount: 100n, currency: 'USD' };
    await svc.api.redeem(request);
    for (let guess = 1; guess <= 5; guess++) {
      await rpcError(
        svc.api.balanceInquiry({ cardNumber: card.cardNumber, passcode: wrongPasscode(card.passcode, guess) }),
      );
    }
    expect(await rpcError(svc.api.redeem(request))).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      reason: 'PASSCODE_LOCKED',
    });
  });

  it('replays a key stored before the upgrade, whose fingerprint covers the passcode, only to the right passcode', async () => {
    const card = await issueCard(svc.api);
    const request = { ...credentialsOf(card), amount: 300n, currency: 'USD', orderId: 'order-legacy' };
    const answered = await svc.api.redeem({ idempotencyKey: newKey(), ...request });
    const legacyKey = newKey();
    await storeAsPreviousReleaseDid(
      legacyKey,
      {
        operation: 'Redeem',
        payload: {
          card: { kind: 'credentials', cardNumber: card.cardNumber, passcode: card.passcode },
          amountMinor: request.amount,
          currency: request.currency,
          orderId: request.orderId,
          allowPartial: false,
        },
      },
      {
        transactionId: answered.transactionId,
        giftCardId: answered.giftCardId,
        redeemedMinor: answered.redeemedAmount,
        balanceMinor: answered.balance,
        currency: answered.currency,
        partial: answered.partial,
      },
    );
    expect(await svc.api.redeem({ idempotencyKey: legacyKey, ...request })).toEqual(answered);
    expect(await rpcError(svc.api.redeem({ idempotencyKey: legacyKey, ...request, amount: 301n }))).toMatchObject({
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
    const wrong = { ...request, passcode: wrongPasscode(card.passcode) };
    expect(await rpcError(svc.api.redeem({ idempotencyKey: legacyKey, ...wrong }))).toMatchObject({
      reason: 'INVALID_CARD_CREDENTIALS',
    });
  });
});

/**
 * An idempotency record exactly as the release before issue 10 wrote it: the fingerprint an HMAC
 * under the passcode key over the whole request, passcode included, and the reply sealed whole
 * under the raw sealing key; no format column set, so the schema's default (1) applies.
 */
async function storeAsPreviousReleaseDid(key: string, request: object, reply: object): Promise<void> {
  const { passcodeKey, sealingKey } = svc.config.secrets;
  const canonical = canonicalize(request);
  const fingerprint = createHmac('sha256', passcodeKey)
    .update(`7:request;`)
    .update(`${canonical.length}:${canonical};`)
    .digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey, iv);
  const body = Buffer.concat([cipher.update(encodeResult(reply)), cipher.final()]);
  const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]);
  const now = new Date();
  await db.query(
    `INSERT INTO idempotency_record (idempotency_key, fingerprint, sealed_response, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?)`,
    [key, fingerprint, sealed, now, new Date(now.getTime() + 86_400_000)],
  );
}
