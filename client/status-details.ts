import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ErrorReason } from '../gen/giftcard/v1/error_reason';
import { BadRequest, ErrorInfo } from '../gen/google/rpc/error_details';
import { Status } from '../gen/google/rpc/status';

const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

/** A failed call as the service describes it. */
export interface GiftCardError {
  readonly code: GrpcStatus;
  readonly message: string;
  /**
   * The rule that refused the call; `UNRECOGNIZED` for a reason newer than this client, which a
   * caller handles by `code` alone, and `ERROR_REASON_UNSPECIFIED` when the status had no ErrorInfo
   * (an error from the transport, not from the service).
   */
  readonly reason: ErrorReason;
  /** ErrorInfo as sent: `reason` as a string, `domain` ("giftcard.v1") and `metadata`. */
  readonly errorInfo: ErrorInfo | undefined;
  /** For INVALID_ARGUMENT: one violation per bad field, named by its JSON path (`sourceGiftCardIds[1]`). */
  readonly fieldViolations: readonly BadRequest['fieldViolations'][number][];
}

function reasonOf(info: ErrorInfo | undefined): ErrorReason {
  if (info === undefined) return ErrorReason.ERROR_REASON_UNSPECIFIED;
  // ErrorInfo.reason is the enum value's name (see proto/giftcard/v1/error_reason.proto).
  // Own keys only: a reason such as "constructor" must not reach Object.prototype.
  const value = Object.hasOwn(ErrorReason, info.reason)
    ? ErrorReason[info.reason as keyof typeof ErrorReason]
    : undefined;
  return typeof value === 'number' ? value : ErrorReason.UNRECOGNIZED;
}

/** Reads the `grpc-status-details-bin` trailer of a failed call into ErrorInfo and BadRequest. */
export function decodeGiftCardError(error: ServiceError): GiftCardError {
  let errorInfo: ErrorInfo | undefined;
  let fieldViolations: GiftCardError['fieldViolations'] = [];
  const [details] = error.metadata.get(STATUS_DETAILS_KEY);
  if (details instanceof Buffer) {
    for (const detail of Status.decode(details).details) {
      if (detail.typeUrl === ERROR_INFO_TYPE) errorInfo = ErrorInfo.decode(detail.value);
      else if (detail.typeUrl === BAD_REQUEST_TYPE) fieldViolations = BadRequest.decode(detail.value).fieldViolations;
    }
  }
  return { code: error.code, message: error.details, reason: reasonOf(errorInfo), errorInfo, fieldViolations };
}

/** Whether a rejection came from a gRPC call (and so can be decoded). */
export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && 'metadata' in error;
}
