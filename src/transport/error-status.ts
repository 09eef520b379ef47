import { randomUUID } from 'node:crypto';
import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { Any } from '../../gen/google/protobuf/any';
import { BadRequest, ErrorInfo, RetryInfo } from '../../gen/google/rpc/error_details';
import { Status } from '../../gen/google/rpc/status';
import { DomainError, ErrorReason } from '../domain/errors';
import type { Logger } from '../observability/logger';

/** The ErrorInfo domain: names the service that owns the reasons (AIP-193). */
export const ERROR_DOMAIN = 'giftcard.v1';
const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const RETRY_PUSHBACK_KEY = 'grpc-retry-pushback-ms';

/** The one table from reason to gRPC code; a reason without a row does not compile. */
const CODE_BY_REASON: Readonly<Record<ErrorReason, GrpcStatus>> = {
  [ErrorReason.INVALID_ARGUMENT]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorReason.CANNOT_SHARE_WITH_SELF]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorReason.INVALID_CARD_CREDENTIALS]: GrpcStatus.PERMISSION_DENIED,
  [ErrorReason.CARD_OWNED_BY_ANOTHER_USER]: GrpcStatus.PERMISSION_DENIED,
  [ErrorReason.NOT_CARD_OWNER]: GrpcStatus.PERMISSION_DENIED,
  [ErrorReason.PASSCODE_LOCKED]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorReason.HOLD_LIMIT_REACHED]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorReason.CARD_NOT_FOUND]: GrpcStatus.NOT_FOUND,
  [ErrorReason.TRANSACTION_NOT_FOUND]: GrpcStatus.NOT_FOUND,
  [ErrorReason.HOLD_NOT_FOUND]: GrpcStatus.NOT_FOUND,
  [ErrorReason.CARD_NOT_ACTIVE]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.CARD_BLOCKED]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.CARD_EXPIRED]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.CURRENCY_MISMATCH]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.INSUFFICIENT_FUNDS]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.BALANCE_LIMIT_EXCEEDED]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.NOT_A_REDEMPTION]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.REFUND_EXCEEDS_REDEMPTION]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.TRANSFER_AMOUNT_MISMATCH]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.SHARE_LIMIT_REACHED]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.HOLD_NOT_ACTIVE]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.HOLD_EXPIRED]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.HOLDS_OUTSTANDING]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.CAPTURE_EXCEEDS_HOLD]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.REVERSAL_NOT_POSSIBLE]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorReason.IDEMPOTENCY_KEY_REUSED]: GrpcStatus.ALREADY_EXISTS,
  [ErrorReason.SOURCE_TRANSACTION_USED]: GrpcStatus.ALREADY_EXISTS,
  [ErrorReason.OPERATION_REVERSED]: GrpcStatus.ALREADY_EXISTS,
  [ErrorReason.CONCURRENCY_CONFLICT]: GrpcStatus.ABORTED,
  [ErrorReason.DATABASE_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [ErrorReason.SHUTTING_DOWN]: GrpcStatus.UNAVAILABLE,
  [ErrorReason.OVERLOADED]: GrpcStatus.UNAVAILABLE,
  [ErrorReason.CALLER_UNAUTHENTICATED]: GrpcStatus.UNAUTHENTICATED,
  [ErrorReason.CALLER_NOT_ALLOWED]: GrpcStatus.PERMISSION_DENIED,
};

function packAny(typeName: string, value: Uint8Array): Any {
  return { typeUrl: `type.googleapis.com/${typeName}`, value: Buffer.from(value) };
}

function durationOf(ms: number): { seconds: bigint; nanos: number } {
  const whole = Math.floor(ms);
  return { seconds: BigInt(Math.floor(whole / 1000)), nanos: (whole % 1000) * 1_000_000 };
}

/** The status a DomainError becomes: its code, its message, ErrorInfo, BadRequest and RetryInfo details. */
export function domainErrorStatus(error: DomainError): Partial<StatusObject> {
  const code = CODE_BY_REASON[error.reason];
  const details = [
    packAny(
      'google.rpc.ErrorInfo',
      ErrorInfo.encode({ reason: error.reason, domain: ERROR_DOMAIN, metadata: { ...error.metadata } }).finish(),
    ),
  ];
  if (error.fieldViolations.length > 0) {
    const fieldViolations = error.fieldViolations.map((v) => ({
      field: v.field,
      description: v.description,
      reason: '',
      localizedMessage: undefined,
    }));
    details.push(packAny('google.rpc.BadRequest', BadRequest.encode({ fieldViolations }).finish()));
  }
  if (error.retryDelayMs !== null) {
    details.push(
      packAny('google.rpc.RetryInfo', RetryInfo.encode({ retryDelay: durationOf(error.retryDelayMs) }).finish()),
    );
  }
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(Status.encode({ code, message: error.message, details }).finish()));
  // gRFC A6 server pushback: a client retrying by service config waits this long, not its own backoff.
  if (error.retryDelayMs !== null) metadata.set(RETRY_PUSHBACK_KEY, String(Math.floor(error.retryDelayMs)));
  return { code, details: error.message, metadata };
}

export type ErrorTranslator = (error: unknown) => unknown;

/**
 * Every failure leaves the service through here. Infrastructure errors are first translated to
 * domain words (unavailable, contention); whatever is still not a DomainError is a bug: INTERNAL
 * with an id that leads to the log line, never the raw message.
 */
export function toServiceError(
  error: unknown,
  translate: ErrorTranslator,
  log: Logger,
  method: string,
): Partial<ServiceError> {
  const translated = translate(error);
  if (translated instanceof DomainError) return domainErrorStatus(translated);
  const errorId = randomUUID();
  log.error('unhandled error', {
    method,
    errorId,
    error: translated instanceof Error ? (translated.stack ?? translated.message) : String(translated),
  });
  return { code: GrpcStatus.INTERNAL, details: `internal error (id ${errorId})` };
}
