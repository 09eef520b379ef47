import type { handleUnaryCall, ServerUnaryCall, ServiceDefinition, sendUnaryData } from '@grpc/grpc-js';
import { invalidArgument } from '../domain/errors';
import type { Logger } from '../logger';
import { toServiceError, type ErrorTranslator } from './error-status';

/** Marks a request whose bytes were not a valid message; the handler answers INVALID_ARGUMENT. */
const MALFORMED = Symbol('malformed request');

interface MalformedRequest {
  readonly [MALFORMED]: true;
}

function isMalformed(request: unknown): request is MalformedRequest {
  return typeof request === 'object' && request !== null && MALFORMED in request;
}

/**
 * grpc-js answers INTERNAL when a request fails to deserialize. Garbage from a client is bad
 * input, not our bug, so decoding failures are caught here and turned into INVALID_ARGUMENT.
 */
export function withTolerantDecoding<S extends ServiceDefinition>(service: S): S {
  const tolerant: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    tolerant[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch {
          return { [MALFORMED]: true };
        }
      },
    };
  }
  return tolerant as S;
}

export interface UnaryContext {
  readonly log: Logger;
  readonly translateError: ErrorTranslator;
  /** Called around each call, so shutdown can wait for the calls in flight. */
  readonly track: <T>(work: Promise<T>) => Promise<T>;
}

/** Adapts an async handler to grpc-js: one place decodes, answers and maps every error. */
export function unary<Req, Res>(
  context: UnaryContext,
  method: string,
  handle: (request: Req) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const request: unknown = call.request;
    const started = Date.now();
    const work = isMalformed(request)
      ? Promise.reject(invalidArgument([{ field: '', description: 'request is not a valid protobuf message' }]))
      : Promise.resolve().then(() => handle(request as Req));
    void context.track(
      work.then(
        (response) => {
          context.log.debug('call ok', { method, ms: Date.now() - started });
          callback(null, response);
        },
        (error: unknown) => {
          const status = toServiceError(error, context.translateError, context.log, method);
          context.log.debug('call failed', { method, code: status.code, ms: Date.now() - started });
          callback(status);
        },
      ),
    );
  };
}
