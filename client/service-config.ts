import { credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { GiftCardServiceClient } from '../gen/giftcard/v1/gift_card_service';

/**
 * The gRPC service config every caller should use (gRFC A6 retries). Retrying is safe here because
 * of the service's rules, not by luck:
 *
 * - UNAVAILABLE: the connection failed, the database was unreachable (DATABASE_UNAVAILABLE), the
 *   server was stopping (SHUTTING_DOWN) or admitted no more calls (OVERLOADED, nothing applied; its
 *   grpc-retry-pushback-ms sets the wait before the retry). The call may or may not have been applied. Every
 *   money-moving RPC carries an idempotency key, and a retry sends the same bytes, so it is applied
 *   once or answered with the first response. Save, share, unshare and update without a key are
 *   idempotent by rule (saving or sharing again changes nothing, an update sets a value), and
 *   reads change nothing.
 * - ABORTED: the card stayed locked by other calls (CONCURRENCY_CONFLICT); the transaction rolled
 *   back and the key is unused, so the retry is a fresh attempt.
 *
 * Not retried: DEADLINE_EXCEEDED (attempts share the call's deadline, so none is left),
 * RESOURCE_EXHAUSTED (a passcode lockout lasts minutes), INTERNAL (a bug), and every business
 * answer (FAILED_PRECONDITION, NOT_FOUND, ...), which a retry would only repeat.
 *
 * Four attempts with jittered backoff wait at most 0.25 + 0.5 + 1 s between them: enough for a lock
 * burst or a database failover blip, short against a caller's deadline. The throttle stops
 * retrying while more than half of recent calls fail, so a fleet of callers cannot multiply the
 * load on a service that is down.
 */
export const GIFT_CARD_SERVICE_CONFIG = {
  methodConfig: [
    {
      name: [{ service: 'giftcard.v1.GiftCardService' }],
      retryPolicy: {
        maxAttempts: 4,
        initialBackoff: '0.25s',
        maxBackoff: '1s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE', 'ABORTED'],
      },
    },
  ],
  retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
} as const;

/** Channel options that apply the service config; merge your own on top. */
export function giftCardChannelOptions(options: ChannelOptions = {}): ChannelOptions {
  return { 'grpc.service_config': JSON.stringify(GIFT_CARD_SERVICE_CONFIG), ...options };
}

/** The typed client with the service config applied. Plaintext unless `credentials` says otherwise. */
export function createGiftCardClient(
  address: string,
  credentials: ChannelCredentials = grpcCredentials.createInsecure(),
  options: ChannelOptions = {},
): GiftCardServiceClient {
  return new GiftCardServiceClient(address, credentials, giftCardChannelOptions(options));
}
