import {
  Metadata,
  status,
  type handleUnaryCall,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { withCaller } from '../call-caller';
import { callBudget, withWorkDeadline } from '../call-deadline';
import { databaseUnavailable, invalidArgument, type DomainError } from '../domain/errors';
import { REQUEST_ID_HEADER, type CallObserver } from '../observability/call-observer';
import type { Logger } from '../observability/logger';
import type { Caller, CallerPolicy } from '../security/callers';
import type { AdmissionControl } from './admission';
import { authorizeCall } from './caller-authorization';
import { toServiceError, type ErrorTranslator } from './error-status';

/** Marks a request whose bytes were not a valid message; the handler answers INVALID_ARGUMENT. */
const MALFORMED = Symbol('malformed request');

interface MalformedRequest {
  readonly [MALFORMED]: true;
}

export function isMalformedRequest(request: unknown): request is MalformedRequest {
  return typeof request === 'object' && request !== null && MALFORMED in request;
}

/** The answer to a request whose bytes were not a valid message: nothing was touched. */
export function malformedRequest(): DomainError {
  return invalidArgument([{ field: '', description: 'request is not a valid protobuf message' }]);
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
  /**
   * Registers each call until it is answered, so shutdown can wait for the calls in flight and,
   * once its grace period is over, answer those still running with `abandon`.
   */
  readonly track: (answered: Promise<void>, abandon: (error: DomainError) => void) => void;
  /**
   * False while the database every call needs is unreachable: calls are then refused at once with
   * UNAVAILABLE instead of each waiting out a connect timeout.
   */
  readonly databaseUp: () => boolean;
  /** Bounds the calls running at once and waiting their turn, in front of the database pool. */
  readonly admission: AdmissionControl;
  /** Who may call what; every call proves its caller before anything else happens. */
  readonly callers: CallerPolicy;
  /** The request log line, the metrics and the span of each call. */
  readonly observer: CallObserver;
}

/**
 * Answers by `replyByMs` whatever the work is still waiting for, so the caller hears UNAVAILABLE
 * (retry with the same key) before its own deadline instead of timing out blind. The unit of work
 * gives up earlier than this; this is the backstop for reads outside it.
 */
function answerInTime<T>(work: Promise<T>, replyByMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(databaseUnavailable('the call could not finish before its deadline; retry with the same idempotency key'));
    }, replyByMs - Date.now());
  });
  return Promise.race([work, late]).finally(() => {
    clearTimeout(timer);
  });
}

/**
 * Adapts an async handler to grpc-js: one place authorizes, decodes, answers, maps every error and
 * observes each call (request id, log line, metrics, span).
 */
export function unary<Req, Res>(
  context: UnaryContext,
  method: string,
  handle: (request: Req) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const request: unknown = call.request;
    const started = Date.now();
    const observation = context.observer.begin(method, call.metadata);
    const deadline = call.getDeadline();
    const budget = callBudget(deadline instanceof Date ? deadline.getTime() : deadline, started);
    let caller: Caller | null = null;
    let work: Promise<Res>;
    try {
      const authorized = authorizeCall(context.callers, call, method, observation.requestId, context.log);
      caller = authorized;
      if (isMalformedRequest(request)) {
        work = Promise.reject(malformedRequest());
      } else if (!context.databaseUp()) {
        work = Promise.reject(databaseUnavailable());
      } else {
        const workByMs = budget?.workByMs ?? null;
        const handled = observation.run(() =>
          context.admission.run(
            () => withCaller(authorized, () => withWorkDeadline(workByMs, () => handle(request as Req))),
            workByMs,
          ),
        );
        work = budget === null ? handled : answerInTime(handled, budget.replyByMs);
      }
    } catch (refusal) {
      // A refused caller (UNAUTHENTICATED / PERMISSION_DENIED) is answered like any other failure.
      work = Promise.reject(refusal instanceof Error ? refusal : new Error(String(refusal)));
    }
    let abandon: (error: DomainError) => void = () => undefined;
    const abandoned = new Promise<never>((_resolve, reject) => {
      abandon = reject;
    });
    // The request id goes back in the trailers, on success as on failure: a status-only answer has
    // no headers, and headers sent early would commit the call, so a grpc-js client could no longer
    // retry a refusal (UNAVAILABLE, ABORTED) under its retry policy.
    const withRequestId = (trailers = new Metadata()): Metadata => {
      trailers.set(REQUEST_ID_HEADER, observation.requestId);
      return trailers;
    };
    const answered = Promise.race([work, abandoned]).then(
      (response) => {
        observation.end(status.OK, caller?.name ?? 'unauthenticated');
        callback(null, response, withRequestId());
      },
      (error: unknown) => {
        const serviceError = toServiceError(error, context.translateError, context.log, method);
        observation.end(serviceError.code ?? status.UNKNOWN, caller?.name ?? 'unauthenticated');
        callback({ ...serviceError, metadata: withRequestId(serviceError.metadata) });
      },
    );
    context.track(answered, abandon);
  };
}
