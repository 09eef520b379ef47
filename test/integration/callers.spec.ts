import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { credentials, Metadata, status, type ChannelCredentials } from '@grpc/grpc-js';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { GiftCardServiceClient } from '../../gen/giftcard/v1/gift_card_service';
import { OperationType, ReversalOutcome } from '../../gen/giftcard/v1/reversal';
import { GiftCardApi } from '../support/api';
import { credentialsOf, issueCard, newKey } from '../support/builders';
import { TestCertificateAuthority, type IssuedCertificate } from '../support/certificates';
import { entriesOf } from '../support/direct-rows';
import { useTestService } from '../support/integration-hooks';
import { rpcError, settle } from '../support/rpc-error';
import type { TestService } from '../support/test-service';

const ca = new TestCertificateAuthority();
const serverCertificate = ca.issueServer();
/** The files the server reads; rotation overwrites them. */
const serverFiles: IssuedCertificate = {
  certFile: join(ca.dir, 'live-server.pem'),
  keyFile: join(ca.dir, 'live-server.key'),
};
copyFileSync(serverCertificate.certFile, serverFiles.certFile);
copyFileSync(serverCertificate.keyFile, serverFiles.keyFile);

const orchestratorCertificate = ca.issue(
  'orchestrator',
  '/CN=orchestrator/O=Example Shop',
  'DNS:orchestrator.shop.test',
  'clientAuth',
);
const walletCertificate = ca.issue(
  'wallet',
  '/CN=wallet-7f3a',
  'URI:spiffe://shop.test/ns/prod/sa/wallet',
  'clientAuth',
);
/** Signed by the client CA but listed for no caller: a valid certificate is not an identity. */
const strangerCertificate = ca.issue('stranger', '/CN=stranger', 'DNS:stranger.shop.test', 'clientAuth');
const otherCa = new TestCertificateAuthority('Somebody Else CA');
const foreignCertificate = otherCa.issue(
  'foreign',
  '/CN=orchestrator/O=Example Shop',
  'DNS:orchestrator.shop.test',
  'clientAuth',
);

const AUDITOR_TOKEN = `auditor-${randomUUID()}`;
const STOREFRONT_TOKEN = `storefront-${randomUUID()}`;
const OPERATOR_TOKEN = `operator-${randomUUID()}`;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const callersFile = join(ca.dir, 'callers.json');
writeFileSync(
  callersFile,
  JSON.stringify({
    callers: [
      { name: 'orchestrator', certificate: { subject: 'CN=orchestrator,O=Example Shop' }, allow: ['payments', 'read'] },
      { name: 'wallet', certificate: { san: 'URI:spiffe://shop.test/ns/prod/sa/wallet' }, allow: ['wallet'] },
      { name: 'auditor', tokenSha256: [sha256(AUDITOR_TOKEN)], allow: ['read'] },
      { name: 'storefront', tokenSha256: sha256(STOREFRONT_TOKEN), allow: ['payments', 'BalanceInquiry'] },
      { name: 'finance-ops', tokenSha256: sha256(OPERATOR_TOKEN), allow: ['operators'] },
    ],
  }),
);

const logLines: string[] = [];
let svc: TestService;
let db: Connection;
useTestService(
  (started) => {
    ({ svc, db } = started);
  },
  {
    TLS_CERT_FILE: serverFiles.certFile,
    TLS_KEY_FILE: serverFiles.keyFile,
    TLS_CLIENT_CA_FILE: ca.caFile,
    CALLERS_FILE: callersFile,
    LOG_LEVEL: 'info',
    RELOAD_INTERVAL_MS: '200',
  },
  { logLines },
);

const clients: GiftCardServiceClient[] = [];
afterAll(() => {
  for (const client of clients) client.close();
  ca.remove();
  otherCa.remove();
});

function mutualTls(certificate: IssuedCertificate | null, authority = ca.caFile): ChannelCredentials {
  return credentials.createSsl(
    readFileSync(authority),
    certificate === null ? null : readFileSync(certificate.keyFile),
    certificate === null ? null : readFileSync(certificate.certFile),
  );
}

function withToken(channel: ChannelCredentials, token: string): ChannelCredentials {
  return credentials.combineChannelCredentials(
    channel,
    credentials.createFromMetadataGenerator((_params, callback) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      callback(null, metadata);
    }),
  );
}

function apiWith(channel: ChannelCredentials): GiftCardApi {
  const client = new GiftCardServiceClient(`127.0.0.1:${svc.service.server.port}`, channel);
  clients.push(client);
  return new GiftCardApi(client);
}

const orchestrator = (): GiftCardApi => apiWith(mutualTls(orchestratorCertificate));

describe('Transport security (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE)', () => {
  it('refuses a plaintext client', async () => {
    const error = await rpcError(apiWith(credentials.createInsecure()).balanceInquiry({}, { deadlineMs: 5_000 }));
    expect(error.code).toBe(status.UNAVAILABLE);
  });

  it('refuses a TLS client that presents no client certificate', async () => {
    const error = await rpcError(apiWith(mutualTls(null)).balanceInquiry({}, { deadlineMs: 5_000 }));
    expect(error.code).toBe(status.UNAVAILABLE);
  });

  it('refuses a client certificate signed by another authority, whatever its subject says', async () => {
    const error = await rpcError(apiWith(mutualTls(foreignCertificate)).balanceInquiry({}, { deadlineMs: 5_000 }));
    expect(error.code).toBe(status.UNAVAILABLE);
  });
});

describe('Callers (CALLERS_FILE)', () => {
  it('knows a caller by its certificate subject and lets it call its groups', async () => {
    const api = orchestrator();
    const card = await issueCard(api, { amount: 1_000n });
    const inquiry = await api.balanceInquiry(credentialsOf(card));
    expect(inquiry.balance).toBe(1_000n);
  });

  it('knows a caller by a SPIFFE URI in its certificate SAN', async () => {
    const card = await issueCard(orchestrator());
    const wallet = apiWith(mutualTls(walletCertificate));
    await wallet.saveGiftCard({ idempotencyKey: newKey(), userId: 'alice', ...credentialsOf(card) });
    const error = await rpcError(
      wallet.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 1n, currency: 'USD' }),
    );
    expect(error).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'CALLER_NOT_ALLOWED' });
  });

  it('keeps ReconcileLedger to operators: a payments and read caller is refused it, an operator gets the report', async () => {
    const error = await rpcError(orchestrator().reconcileLedger({}));
    expect(error).toMatchObject({
      code: status.PERMISSION_DENIED,
      reason: 'CALLER_NOT_ALLOWED',
      metadata: { caller: 'orchestrator', rpc: 'ReconcileLedger' },
    });
    const operator = apiWith(withToken(mutualTls(strangerCertificate), OPERATOR_TOKEN));
    expect((await operator.reconcileLedger({})).cardCount).toBeGreaterThan(0n);
  });

  it('answers PERMISSION_DENIED to a caller allowed only `read` that calls Redeem, and moves nothing', async () => {
    const card = await issueCard(orchestrator(), { amount: 1_000n });
    const auditor = apiWith(withToken(mutualTls(strangerCertificate), AUDITOR_TOKEN));
    expect((await auditor.balanceInquiry(credentialsOf(card))).balance).toBe(1_000n);
    const error = await rpcError(
      auditor.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' }),
    );
    expect(error).toMatchObject({
      code: status.PERMISSION_DENIED,
      reason: 'CALLER_NOT_ALLOWED',
      metadata: { caller: 'auditor', rpc: 'Redeem' },
    });
    expect((await auditor.balanceInquiry(credentialsOf(card))).balance).toBe(1_000n);
  });

  it('answers UNAUTHENTICATED to an unknown bearer token, even over a valid client certificate', async () => {
    const token = `guessed-${randomUUID()}`;
    const error = await rpcError(apiWith(withToken(mutualTls(orchestratorCertificate), token)).balanceInquiry({}));
    expect(error).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'CALLER_UNAUTHENTICATED' });
    const refusal = logLines.find(
      (line) => line.includes('"message":"call refused"') && line.includes('unknown bearer token'),
    );
    expect(refusal).toBeDefined();
    expect(logLines.join('')).not.toContain(token);
  });

  it('answers UNAUTHENTICATED to a certificate the CA signed but no caller lists', async () => {
    const error = await rpcError(apiWith(mutualTls(strangerCertificate)).balanceInquiry({}));
    expect(error).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'CALLER_UNAUTHENTICATED' });
    expect(logLines.some((line) => line.includes('client certificate matches no caller'))).toBe(true);
  });

  it('never writes a token to the logs, known or not', () => {
    const text = logLines.join('');
    expect(text).not.toContain(AUDITOR_TOKEN);
    expect(text).not.toContain(STOREFRONT_TOKEN);
  });
});

describe('Idempotency keys per caller', () => {
  it('gives two callers who send the same key independent results, each replaying only its own', async () => {
    const orchestratorApi = orchestrator();
    const storefront = apiWith(withToken(mutualTls(strangerCertificate), STOREFRONT_TOKEN));
    const key = newKey();
    const purchase = (caller: string) => ({
      idempotencyKey: key,
      amount: 2_500n,
      currency: 'USD',
      sourceTransactionId: `purchase-${caller}-${key}`,
    });
    const first = await orchestratorApi.issueVirtualCard(purchase('orchestrator'));
    // The very same request and key from another caller is a new request of its own: no replay of
    // the first card (its number and passcode), but a purchase that already funded one.
    const copied = await rpcError(storefront.issueVirtualCard(purchase('orchestrator')));
    expect(copied).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'SOURCE_TRANSACTION_USED' });
    // The same key for a purchase of its own: a card of its own.
    const second = await storefront.issueVirtualCard(purchase('storefront'));
    expect(second.giftCardId).not.toBe(first.giftCardId);
    expect(second.cardNumber).not.toBe(first.cardNumber);
    expect(await orchestratorApi.issueVirtualCard(purchase('orchestrator'))).toEqual(first);
    expect(await storefront.issueVirtualCard(purchase('storefront'))).toEqual(second);
    const [rows] = await db.query<RowDataPacket[]>(
      'SELECT caller, operation_id FROM idempotency_record WHERE idempotency_key = ? ORDER BY caller',
      [key],
    );
    expect(rows.map((row) => row.caller as string)).toEqual(['orchestrator', 'storefront']);
    // Each caller's record names the operation its own card's entry carries (SPEC §12 and issue 16 together).
    expect((await entriesOf(db, first.giftCardId)).map((entry) => entry.operationId)).toEqual([rows[0]?.operation_id]);
    expect((await entriesOf(db, second.giftCardId)).map((entry) => entry.operationId)).toEqual([rows[1]?.operation_id]);
  });

  it('lets no caller block another by claiming its next key first', async () => {
    const card = await issueCard(orchestrator(), { amount: 1_000n });
    const key = newKey();
    const storefront = apiWith(withToken(mutualTls(strangerCertificate), STOREFRONT_TOKEN));
    await storefront.redeem({ idempotencyKey: key, ...credentialsOf(card), amount: 1n, currency: 'USD' });
    const redeemed = await orchestrator().redeem({
      idempotencyKey: key,
      ...credentialsOf(card),
      amount: 10n,
      currency: 'USD',
    });
    expect(redeemed.balance).toBe(989n);
  });

  it("reverses only the caller's own call: another caller naming the key undoes nothing", async () => {
    const orchestratorApi = orchestrator();
    const storefront = apiWith(withToken(mutualTls(strangerCertificate), STOREFRONT_TOKEN));
    const card = await issueCard(orchestratorApi, { amount: 1_000n });
    const key = newKey();
    const redeem = { idempotencyKey: key, ...credentialsOf(card), amount: 300n, currency: 'USD' };
    const redeemed = await orchestratorApi.redeem(redeem);
    const reversal = { operationType: OperationType.OPERATION_TYPE_REDEEM, idempotencyKey: key };
    // The storefront sent no call with this key: its own key is reserved, the orchestrator's call stands.
    expect(await storefront.reverseOperation(reversal)).toMatchObject({
      outcome: ReversalOutcome.REVERSAL_OUTCOME_NOT_FOUND,
    });
    expect((await orchestratorApi.balanceInquiry(credentialsOf(card))).balance).toBe(700n);
    expect(await orchestratorApi.redeem(redeem)).toEqual(redeemed);
    const refused = await rpcError(storefront.redeem(redeem));
    expect(refused).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'OPERATION_REVERSED' });
    // The orchestrator reverses its own.
    expect(await orchestratorApi.reverseOperation(reversal)).toMatchObject({
      outcome: ReversalOutcome.REVERSAL_OUTCOME_REVERSED,
      reversedTransactionId: redeemed.transactionId,
      balance: 1_000n,
    });
  });
});

/** The serial number of the certificate a fresh TLS handshake gets from the server. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port: svc.service.server.port,
      ca: readFileSync(ca.caFile),
      cert: readFileSync(orchestratorCertificate.certFile),
      key: readFileSync(orchestratorCertificate.keyFile),
      ALPNProtocols: ['h2'],
      servername: 'localhost',
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

function serialOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).serialNumber;
}

function rotateServerCertificate(): string {
  const next = ca.issueServer();
  // Key first, then certificate, as an operator's copy would: a reload in between must keep the old pair.
  copyFileSync(next.keyFile, serverFiles.keyFile);
  copyFileSync(next.certFile, serverFiles.certFile);
  return serialOf(next.certFile);
}

describe('Certificate rotation', () => {
  it('serves a new certificate after SIGHUP without failing the calls in flight', async () => {
    const api = orchestrator();
    const card = await issueCard(api, { amount: 1_000n });
    await db.query('BEGIN');
    await db.query('SELECT id FROM gift_card WHERE public_id = ? FOR UPDATE', [card.giftCardId]);
    const inFlight = settle(
      api.redeem({ idempotencyKey: newKey(), ...credentialsOf(card), amount: 100n, currency: 'USD' }),
    );
    const serial = rotateServerCertificate();
    svc.service.reload('SIGHUP');
    expect(await servedSerial()).toBe(serial);
    await db.query('ROLLBACK');
    const outcome = await inFlight;
    expect(outcome.ok ? outcome.value.balance : outcome.error).toBe(900n);
    // The connection opened before the rotation still carries new calls.
    expect((await api.balanceInquiry(credentialsOf(card))).balance).toBe(900n);
  });

  it('notices changed files by itself', async () => {
    const serial = rotateServerCertificate();
    const giveUpAt = Date.now() + 20_000;
    while ((await servedSerial()) !== serial) {
      if (Date.now() > giveUpAt) throw new Error('the rotated certificate was never served');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(logLines.some((line) => line.includes('TLS certificate reloaded') && line.includes('changed'))).toBe(true);
  });

  it('keeps the certificate in use when the new files do not make a pair', async () => {
    const before = await servedSerial();
    writeFileSync(serverFiles.keyFile, readFileSync(ca.issueServer().keyFile));
    svc.service.reload('SIGHUP');
    expect(await servedSerial()).toBe(before);
    expect(logLines.some((line) => line.includes('TLS reload failed; keeping the certificate in use'))).toBe(true);
    expect(
      (await orchestrator()
        .balanceInquiry({}, { deadlineMs: 5_000 })
        .catch((error: unknown) => error)) as object,
    ).toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
