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
