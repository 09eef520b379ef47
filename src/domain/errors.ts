/**
 * Every expected business outcome is a DomainError with a catalogued reason. The transport maps
 * each reason to a gRPC code in one table (transport/error-status.ts); anything that is not a
 * DomainError is a bug. The contract publishes the same names as its ErrorReason enum
 * (proto/giftcard/v1/error_reason.proto); test/unit/error-catalogue.spec.ts keeps the two equal.
 */
export const ErrorReason = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_CARD_CREDENTIALS: 'INVALID_CARD_CREDENTIALS',
  PASSCODE_LOCKED: 'PASSCODE_LOCKED',
  CARD_NOT_FOUND: 'CARD_NOT_FOUND',
  CARD_NOT_ACTIVE: 'CARD_NOT_ACTIVE',
  CARD_BLOCKED: 'CARD_BLOCKED',
  CARD_EXPIRED: 'CARD_EXPIRED',
  CURRENCY_MISMATCH: 'CURRENCY_MISMATCH',
  INSUFFICIENT_FUNDS: 'INSUFFICIENT_FUNDS',
  BALANCE_LIMIT_EXCEEDED: 'BALANCE_LIMIT_EXCEEDED',
  TRANSACTION_NOT_FOUND: 'TRANSACTION_NOT_FOUND',
  NOT_A_REDEMPTION: 'NOT_A_REDEMPTION',
  REFUND_EXCEEDS_REDEMPTION: 'REFUND_EXCEEDS_REDEMPTION',
  TRANSFER_AMOUNT_MISMATCH: 'TRANSFER_AMOUNT_MISMATCH',
  CARD_OWNED_BY_ANOTHER_USER: 'CARD_OWNED_BY_ANOTHER_USER',
  NOT_CARD_OWNER: 'NOT_CARD_OWNER',
  CANNOT_SHARE_WITH_SELF: 'CANNOT_SHARE_WITH_SELF',
  SHARE_LIMIT_REACHED: 'SHARE_LIMIT_REACHED',
  HOLD_NOT_FOUND: 'HOLD_NOT_FOUND',
  HOLD_NOT_ACTIVE: 'HOLD_NOT_ACTIVE',
  HOLD_EXPIRED: 'HOLD_EXPIRED',
  HOLDS_OUTSTANDING: 'HOLDS_OUTSTANDING',
  HOLD_LIMIT_REACHED: 'HOLD_LIMIT_REACHED',
  CAPTURE_EXCEEDS_HOLD: 'CAPTURE_EXCEEDS_HOLD',
  OPERATION_REVERSED: 'OPERATION_REVERSED',
  REVERSAL_NOT_POSSIBLE: 'REVERSAL_NOT_POSSIBLE',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  SOURCE_TRANSACTION_USED: 'SOURCE_TRANSACTION_USED',
  CONCURRENCY_CONFLICT: 'CONCURRENCY_CONFLICT',
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  OVERLOADED: 'OVERLOADED',
  CALLER_UNAUTHENTICATED: 'CALLER_UNAUTHENTICATED',
  CALLER_NOT_ALLOWED: 'CALLER_NOT_ALLOWED',
} as const;

export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];

/** One malformed request field, named by its JSON field path (`sourceGiftCardIds[1]`). */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export class DomainError extends Error {
  constructor(
    readonly reason: ErrorReason,
    message: string,
    readonly metadata: Readonly<Record<string, string>> = {},
    readonly fieldViolations: readonly FieldViolation[] = [],
    /** How long the caller should wait before trying again (google.rpc.RetryInfo), when that is known. */
    readonly retryDelayMs: number | null = null,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function invalidArgument(violations: readonly FieldViolation[]): DomainError {
  const summary = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
  return new DomainError(ErrorReason.INVALID_ARGUMENT, `invalid request: ${summary}`, {}, violations);
}

/** Wrong card number and wrong passcode must be indistinguishable, so both use this one error. */
export function invalidCardCredentials(): DomainError {
  return new DomainError(ErrorReason.INVALID_CARD_CREDENTIALS, 'card number or passcode is not valid');
}

/** An unknown card and a card the user may not use must be indistinguishable, so both use this. */
export function cardNotFound(): DomainError {
  return new DomainError(ErrorReason.CARD_NOT_FOUND, 'gift card not found');
}

/**
 * The database could not be reached or did not answer in time. The call may or may not have been
 * applied, so the caller retries with the same idempotency key and learns the outcome.
 */
export function databaseUnavailable(message = 'the database is unavailable; retry later'): DomainError {
  return new DomainError(ErrorReason.DATABASE_UNAVAILABLE, message);
}

/** Rows the call needed stayed locked by other calls; nothing was applied. */
export function concurrencyConflict(message = 'the card is busy; retry with the same idempotency key'): DomainError {
  return new DomainError(ErrorReason.CONCURRENCY_CONFLICT, message);
}

/** The server stopped before the call finished; another instance (or this one, restarted) answers the retry. */
export function shuttingDown(): DomainError {
  return new DomainError(ErrorReason.SHUTTING_DOWN, 'the server is shutting down; retry with the same idempotency key');
}

/** The funding reference (a purchase) already funded an issue, a reload or a new-card gift. */
export function sourceTransactionUsed(sourceTransactionId: string): DomainError {
  return new DomainError(
    ErrorReason.SOURCE_TRANSACTION_USED,
    'the source transaction already funded a card; a purchase funds once',
    { sourceTransactionId },
  );
}

/**
 * The retry hint of an overload refusal: about what a full queue takes to drain at a few hundred
 * calls a second. Callers add their own jitter.
 */
const OVERLOAD_RETRY_DELAY_MS = 250;

/** More calls arrived than the service admits; nothing was applied, retry after the delay. */
export function overloaded(retryDelayMs = OVERLOAD_RETRY_DELAY_MS): DomainError {
  return new DomainError(
    ErrorReason.OVERLOADED,
    'the service is overloaded; retry with the same idempotency key after the delay',
    {},
    [],
    retryDelayMs,
  );
}

/** The call proved no caller the service knows (SPEC §12): no token, an unknown one, an unknown certificate. */
export function callerUnauthenticated(): DomainError {
  return new DomainError(
    ErrorReason.CALLER_UNAUTHENTICATED,
    'the caller is not known: send a bearer token or a client certificate listed in the callers file',
  );
}

/** A known caller asked for an RPC its entry in the callers file does not grant. */
export function callerNotAllowed(caller: string, rpc: string): DomainError {
  return new DomainError(ErrorReason.CALLER_NOT_ALLOWED, `caller ${caller} may not call ${rpc}`, { caller, rpc });
}
