import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, status as GrpcStatus, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { GiftCardStatus } from '../gen/giftcard/v1/gift_card';
import {
  BalanceInquiryResponse,
  GiftCardServiceService,
  IssueVirtualCardResponse,
  RedeemResponse,
  ReloadResponse,
} from '../gen/giftcard/v1/gift_card_service';
import { loadConfig } from '../src/config';
import { CallObserver } from '../src/observability/call-observer';
import { createLogger } from '../src/observability/logger';
import { OPEN_POLICY } from '../src/security/callers';
import { AdmissionControl } from '../src/transport/admission';
import { SERVICE_NAME } from '../src/transport/server';
import { unary, withTolerantDecoding, type UnaryContext } from '../src/transport/unary';

/**
 * The transport ceiling: the service's own gRPC stack (grpc-js, the ts-proto codecs, the tolerant
 * decoding, admission control and the unary adapter with its tracking) answering each call at once with a response of
 * the real shape and size. What the service loses against it is application and database time.
 */

/** The same bound the service sets (transport/server.ts). */
const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024;

const giftCardId = randomUUID();
const transactionId = randomUUID();
const CANNED: Readonly<Record<string, unknown>> = {
  redeem: RedeemResponse.fromPartial({
    transactionId,
    giftCardId,
    redeemedAmount: 1n,
    balance: 999_999n,
    currency: 'USD',
    partial: false,
  }),
  reload: ReloadResponse.fromPartial({ transactionId, giftCardId, balance: 1_000_001n, currency: 'USD' }),
  balanceInquiry: BalanceInquiryResponse.fromPartial({
    giftCardId,
    maskedCardNumber: '************4242',
    balance: 999_999n,
    currency: 'USD',
    status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
  }),
  issueVirtualCard: IssueVirtualCardResponse.fromPartial({
    giftCardId,
    cardNumber: '4242424242424242',
    passcode: '12345678',
    balance: 5_000n,
    currency: 'USD',
    status: GiftCardStatus.GIFT_CARD_STATUS_ACTIVE,
    transactionId,
  }),
};

function main(): void {
  const log = createLogger('info');
  const port = Number(process.env.GRPC_PORT ?? '0');
  const host = process.env.GRPC_HOST ?? '127.0.0.1';
  // The ceiling serves the same wire path as the service, minus the database: nothing to track
  // for a drain, and the database is never down.
  const context: UnaryContext = {
    log,
    translateError: (error: unknown) => error,
    track: () => () => undefined,
    databaseUp: () => true,
    admission: new AdmissionControl(loadConfig({}).admission),
    callers: OPEN_POLICY,
    // A ceiling: no request log, metrics or traces (the service's own run measures those).
    observer: new CallObserver(SERVICE_NAME, createLogger('warn'), null, null),
  };
  const implementation: UntypedServiceImplementation = {};
  for (const method of Object.keys(GiftCardServiceService)) {
    const response = CANNED[method];
    implementation[method] =
      response === undefined
        ? (_call: unknown, callback: (error: { code: GrpcStatus; details: string }) => void) => {
            callback({ code: GrpcStatus.UNIMPLEMENTED, details: `${method} has no canned answer` });
          }
        : unary(context, method, () => Promise.resolve(response));
  }
  const server = new Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES });
  server.addService(withTolerantDecoding(GiftCardServiceService), implementation);
  server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
    if (error) {
      process.stderr.write(`no-op server failed to bind: ${error.message}\n`);
      process.exit(1);
    }
    log.info('transport ceiling listening', { port: bound });
  });
  const stop = (): void => {
    server.tryShutdown(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
