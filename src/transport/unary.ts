import {
  Metadata,
  status,
  type handleUnaryCall,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { withCall } from '../call-context';
import { callBudget } from '../call-deadline';
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
   * once its grace period is over, answer those still running with `abandon`. Returns what the
   * call runs once it is answered.
   */
  readonly track: (abandon: (error: DomainError) => void) => () => void;
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
    // Exactly one answer per call, whichever comes first: the work's, the deadline's (answered by
    // `replyByMs` so the caller hears UNAVAILABLE, retry with the same key, before its own timer
    // fires; the unit of work gives up earlier, this is the backstop for reads outside it) or
    // shutdown's. Plain callbacks rather than promise races: each promise costs every
    // AsyncLocalStorage hook on the way, and this runs for every call.
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    let leave: () => void = () => undefined;
    // The request id goes back in the trailers, on success as on failure: a status-only answer has
    // no headers, and headers sent early would commit the call, so a grpc-js client could no longer
    // retry a refusal (UNAVAILABLE, ABORTED) under its retry policy.
    const withRequestId = (trailers = new Metadata()): Metadata => {
      trailers.set(REQUEST_ID_HEADER, observation.requestId);
      return trailers;
    };
    // Answering must not throw into the promise machinery, where it would go unheard: a failure
    // here is our bug, logged, and the call still leaves the books.
    const answer = (send: () => void): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      try {
        send();
      } catch (bug) {
        context.log.error('answering a call failed', { rpc: method, error: String(bug) });
      } finally {
        leave();
      }
    };
    const succeed = (response: Res): void => {
      answer(() => {
        observation.end(status.OK, caller?.name ?? 'unauthenticated');
        callback(null, response, withRequestId());
      });
    };
    const fail = (error: unknown): void => {
      answer(() => {
        const serviceError = toServiceError(error, context.translateError, context.log, method);
        observation.end(serviceError.code ?? status.UNKNOWN, caller?.name ?? 'unauthenticated');
        callback({ ...serviceError, metadata: withRequestId(serviceError.metadata) });
      });
    };
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
        work = observation.run(() =>
          context.admission.run(
            () => withCall({ caller: authorized, workByMs }, () => handle(request as Req)),
            workByMs,
          ),
        );
        if (budget !== null) {
          timer = setTimeout(() => {
            fail(
              databaseUnavailable('the call could not finish before its deadline; retry with the same idempotency key'),
            );
          }, budget.replyByMs - Date.now());
        }
      }
    } catch (refusal) {
      // A refused caller (UNAUTHENTICATED / PERMISSION_DENIED) is answered like any other failure.
      work = Promise.reject(refusal instanceof Error ? refusal : new Error(String(refusal)));
    }
    leave = context.track(fail);
    work.then(succeed, fail);
  };
}
