import { status, type ServiceError } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { generateCardNumber } from '../../src/domain/card-number';
import type { GiftCardApi } from '../support/api';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { assertLedgerInvariants } from '../support/ledger-invariants';
import { decodeRpcError } from '../support/rpc-error';
import { rawConnection, testDatabaseName } from '../support/test-database';
import { secretsIn, secretsInDatabase } from './support/secrets-scan';
import { ServiceUnderTest } from './support/service-under-test';
import { SETUP_WITH_BUILD_TIMEOUT_MS } from './support/server-build';

/**
 * Through the production build at LOG_LEVEL=debug, so everything the server ever writes is
 * captured; the last two tests search it and the raw tables for every secret used above.
 */
let sut: ServiceUnderTest;
let api: GiftCardApi;
let db: Connection;
/** Every card number and passcode this file issued or sent, right or wrong. */
const secrets = new Set<string>();

beforeAll(async () => {
  sut = await ServiceUnderTest.start();
  api = sut.newApi();
  db = await rawConnection();
}, SETUP_WITH_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await db.end();
  await sut.close();
});

afterEach(async () => {
  await assertLedgerInvariants(db);
});

async function newCard(amount = 10_000n) {
  const card = await issueCard(api, { amount, userId: `security-${newKey()}` });
  secrets.add(card.cardNumber);
  secrets.add(card.passcode);
  return card;
}

function wrongPasscode(passcode: string): string {
  const wrong = ((Number(passcode) + 1) % 100_000_000).toString().padStart(8, '0');
  secrets.add(wrong);
  return wrong;
}

function unknownNumber(): string {
  const number = generateCardNumber();
  secrets.add(number);
  return number;
}

/** Everything a caller can see of a failure: code, message, every trailer and the status details' bytes. */
async function everythingSeen(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const { code, details, metadata } = error as ServiceError;
    const [statusDetails] = metadata.get('grpc-status-details-bin');
    return {
      code,
      details,
      trailers: Object.keys(metadata.getMap()).sort(),
      statusDetails: Buffer.isBuffer(statusDetails) ? statusDetails.toString('base64') : statusDetails,
    };
  }
  throw new Error('expected the call to fail');
}

type Credentials = { cardNumber: string; passcode: string };
const credentialCalls: [string, (credentials: Credentials) => Promise<unknown>][] = [
  ['BalanceInquiry', (credentials) => api.balanceInquiry(credentials)],
  ['Redeem', (credentials) => api.redeem({ idempotencyKey: newKey(), ...credentials, amount: 1n, currency: 'USD' })],
  [
    'Reload',
    (credentials) =>
      api.reload({ idempotencyKey: newKey(), ...credentials, amount: 1n, currency: 'USD', sourceTransactionId: 's' }),
  ],
];

describe('Card credentials under attack', () => {
  it('judge at most 5 of 20 parallel wrong passcodes across operations, then refuse even the right one', async () => {
    const card = await newCard();
    const guesses = Array.from({ length: 20 }, (_, i) => {
      const [, call] = credentialCalls[i % credentialCalls.length]!;
      return call({ cardNumber: card.cardNumber, passcode: wrongPasscode(card.passcode) }).then(
        () => 'accepted',
        (error: unknown) => decodeRpcError(error).reason,
      );
    });
    const reasons = await Promise.all(guesses);
    expect(reasons.filter((r) => r === 'INVALID_CARD_CREDENTIALS')).toHaveLength(5);
    expect(reasons.filter((r) => r === 'PASSCODE_LOCKED')).toHaveLength(15);
    const [[row]] = await db.query<RowDataPacket[]>(
      `SELECT f.locked_until FROM passcode_failure f JOIN gift_card c ON c.number_hash = f.number_hash
       WHERE c.public_id = ?`,
      [card.giftCardId],
    );
    expect(row?.locked_until).toBeInstanceOf(Date);
    const rightOne = await everythingSeen(api.balanceInquiry(credentialsOf(card)));
    expect(rightOne.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it.each(credentialCalls.map(([name]) => name))(
    '%s answers a wrong card number and a wrong passcode identically: code, message, trailers, details',
    async (name) => {
      const call = credentialCalls.find(([n]) => n === name)![1];
      const card = await newCard();
      const wrongNumber = await everythingSeen(call({ cardNumber: unknownNumber(), passcode: card.passcode }));
      const wrongCode = await everythingSeen(
        call({ cardNumber: card.cardNumber, passcode: wrongPasscode(card.passcode) }),
      );
      expect(wrongNumber.code).toBe(status.PERMISSION_DENIED);
      expect(wrongNumber).toEqual(wrongCode);
    },
  );

  it('answers an unknown saved card and another user’s saved card identically', async () => {
    const card = await newCard();
    const unknown = await everythingSeen(
      api.balanceInquiry({ giftCardId: '00000000-0000-4000-8000-000000000000', userId: 'intruder' }),
    );
    const notTheirs = await everythingSeen(api.balanceInquiry({ giftCardId: card.giftCardId, userId: 'intruder' }));
    expect(unknown.code).toBe(status.NOT_FOUND);
    expect(unknown).toEqual(notTheirs);
  });

  it('answers credentials made dead by a reissue or a gift exactly as an unknown card, and keeps every new pair secret', async () => {
    const [owner, recipient] = [`security-${newKey()}`, `security-${newKey()}`];
    const card = await issueCard(api, { amount: 5_000n, userId: owner });
    secrets.add(card.cardNumber);
    secrets.add(card.passcode);
    const byOwner = await api.reissueCredentials({
      idempotencyKey: newKey(),
      giftCardId: card.giftCardId,
      userId: owner,
    });
    const byHolder = await api.reissueCredentials({ idempotencyKey: newKey(), ...credentialsOf(byOwner) });
    for (const pair of [byOwner, byHolder]) {
      secrets.add(pair.cardNumber);
      secrets.add(pair.passcode);
    }
    await api.giftDigitalCard({
      idempotencyKey: newKey(),
      userId: owner,
      recipientUserId: recipient,
      giftCardId: card.giftCardId,
    });
    const recipients = await api.reissueCredentials({
      idempotencyKey: newKey(),
      giftCardId: card.giftCardId,
      userId: recipient,
    });
    secrets.add(recipients.cardNumber);
    secrets.add(recipients.passcode);

    for (const [, call] of credentialCalls) {
      const unknown = await everythingSeen(call({ cardNumber: unknownNumber(), passcode: byHolder.passcode }));
      for (const dead of [card, byOwner, byHolder]) {
        expect(await everythingSeen(call(credentialsOf(dead)))).toEqual(unknown);
      }
    }
    expect((await api.balanceInquiry(credentialsOf(recipients))).balance).toBe(5_000n);
  });

  it('leaves no card number or passcode in the server’s debug logs', () => {
    expect(secrets.size).toBeGreaterThan(0);
    // The server ran at LOG_LEVEL=debug and wrote its line for every call.
    expect(sut.logs.text()).toContain('"message":"call"');
    expect(secretsIn(sut.logs.text(), secrets)).toEqual([]);
  });

  it('stores no card number or passcode in clear in any table', async () => {
    expect(await secretsInDatabase(db, testDatabaseName(), secrets)).toEqual([]);
  });
});
