import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo, RetryInfo } from '../../gen/google/rpc/error_details';
import { Status } from '../../gen/google/rpc/status';

export interface DecodedRpcError {
  readonly code: GrpcStatus;
  readonly codeName: string;
  readonly message: string;
  readonly reason: string | undefined;
  readonly metadata: Record<string, string>;
  readonly fieldViolations: readonly { field: string; description: string }[];
  /** google.rpc.RetryInfo's delay in ms, when the answer carries one. */
  readonly retryDelayMs: number | undefined;
}

/** Reads an error the way a client must: the code, then google.rpc.Status from the trailer. */
export function decodeRpcError(error: unknown): DecodedRpcError {
  const serviceError = error as ServiceError;
  if (typeof serviceError.code !== 'number') throw error;
  const [detailsBin] = serviceError.metadata.get('grpc-status-details-bin');
  let reason: string | undefined;
  let metadata: Record<string, string> = {};
  let fieldViolations: { field: string; description: string }[] = [];
  let retryDelayMs: number | undefined;
  if (detailsBin instanceof Buffer) {
    for (const detail of Status.decode(detailsBin).details) {
      if (detail.typeUrl === 'type.googleapis.com/google.rpc.ErrorInfo') {
        const info = ErrorInfo.decode(detail.value);
        reason = info.reason;
        metadata = info.metadata;
      } else if (detail.typeUrl === 'type.googleapis.com/google.rpc.BadRequest') {
        fieldViolations = BadRequest.decode(detail.value).fieldViolations;
      } else if (detail.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo') {
        const delay = RetryInfo.decode(detail.value).retryDelay;
        retryDelayMs = delay === undefined ? 0 : Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6);
      }
    }
  }
  return {
    code: serviceError.code,
    codeName: GrpcStatus[serviceError.code],
    message: serviceError.details,
    reason,
    metadata,
    fieldViolations,
    retryDelayMs,
  };
}

/** Awaits a call that must fail, and returns its decoded error. */
export async function rpcError(call: Promise<unknown>): Promise<DecodedRpcError> {
  try {
    await call;
  } catch (error) {
    return decodeRpcError(error);
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Runs a call, returning its response or its decoded error: for counting outcomes. */
export async function settle<T>(
  call: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: DecodedRpcError }> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    return { ok: false, error: decodeRpcError(error) };
  }
}

/** Answers that decided nothing: the call may be sent again with the same key. */
const RETRYABLE = new Set<GrpcStatus>([GrpcStatus.UNAVAILABLE, GrpcStatus.ABORTED]);
/** Plenty for a burst on a loaded machine; a call still undecided after these fails the test. */
const MAX_SENDS = 20;

/**
 * Sends a call until it gets a definite answer, as a payment orchestrator does: UNAVAILABLE (the
 * service turned a burst away, or the database did not answer) and ABORTED (the card stayed busy)
 * are sent again, unchanged, same idempotency key, after the delay the service asks for.
 */
export async function settleDefinitely<T>(
  send: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: DecodedRpcError }> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await settle(send());
    if (outcome.ok || !RETRYABLE.has(outcome.error.code) || attempt >= MAX_SENDS) return outcome;
    await new Promise((resolve) => setTimeout(resolve, outcome.error.retryDelayMs ?? 20 * attempt));
  }
}
