import { Metadata, type CallOptions, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { decodeGiftCardError, type GiftCardError } from './status-details';

/** The callback form of every generated unary method, as `client.redeem.bind(client)` gives it. */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** A failed call: the ServiceError with its details decoded. */
export class GiftCardCallError extends Error {
  readonly code: GiftCardError['code'];
  readonly reason: GiftCardError['reason'];
  readonly details: GiftCardError;

  constructor(serviceError: ServiceError) {
    super(serviceError.message, { cause: serviceError });
    const details = decodeGiftCardError(serviceError);
    this.name = 'GiftCardCallError';
    this.details = details;
    this.code = details.code;
    this.reason = details.reason;
  }
}

export interface CallSettings {
  /** Milliseconds from now; every attempt, retries included, ends by then. */
  readonly deadlineMs: number;
  readonly metadata?: Metadata;
}

/**
 * Calls one RPC and resolves with its response, or rejects with a GiftCardCallError. A deadline is
 * required: without one a call to a hung peer never ends.
 */
export function call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, settings: CallSettings): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(
      request,
      settings.metadata ?? new Metadata(),
      { deadline: Date.now() + settings.deadlineMs },
      (error, response) => {
        if (error) reject(new GiftCardCallError(error));
        else resolve(response);
      },
    );
  });
}
