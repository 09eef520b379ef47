import { randomUUID } from 'node:crypto';
import { status, type Metadata } from '@grpc/grpc-js';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { grpcCodeName } from './grpc-codes';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';

export const REQUEST_ID_HEADER = 'x-request-id';
/** A caller's request id is echoed and logged: printable ASCII, bounded, or we make our own. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** One call as the operators see it: its request id, its span, and at its end one log line and its metrics. */
export interface CallObservation {
  readonly requestId: string;
  /** Runs the call's work with its span as the active one, so the SQL spans nest under it. */
  run<T>(work: () => Promise<T>): Promise<T>;
  end(code: status, caller: string): void;
}

const metadataGetter = {
  get: (carrier: Metadata, key: string): string | undefined => {
    const value = carrier.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  },
  keys: (carrier: Metadata): string[] => Object.keys(carrier.getMap()),
};

/** The request log, the gRPC metrics and the traces of every GiftCardService call. */
export class CallObserver {
  constructor(
    private readonly grpcService: string,
    private readonly log: Logger,
    private readonly metrics: ServiceMetrics | null,
    private readonly tracer: Tracer | null,
    private readonly logCalls = true,
  ) {}

  begin(rpc: string, metadata: Metadata): CallObservation {
    const startedNs = process.hrtime.bigint();
    const sent = metadata.get(REQUEST_ID_HEADER)[0];
    const requestId = typeof sent === 'string' && REQUEST_ID.test(sent) ? sent : randomUUID();
    this.metrics?.callStarted(rpc);
    const span = this.tracer === null ? null : this.startSpan(this.tracer, rpc, metadata, requestId);
    return {
      requestId,
      run: (work) => (span === null ? work() : context.with(trace.setSpan(context.active(), span), work)),
      end: (code, caller) => {
        const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
        const codeName = grpcCodeName(code);
        this.metrics?.callHandled(rpc, codeName, seconds);
        if (span !== null) {
          span.setAttribute('rpc.grpc.status_code', code);
          span.setAttribute('giftcard.caller', caller);
          if (code !== status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: codeName });
          span.end();
        }
        if (this.logCalls && this.log.enabled('info')) {
          this.log.info('call', {
            rpc,
            code: codeName,
            ms: Math.round(seconds * 1e4) / 10,
            caller,
            requestId,
            traceId: span?.spanContext().traceId,
          });
        }
      },
    };
  }

  private startSpan(tracer: Tracer, rpc: string, metadata: Metadata, requestId: string): Span {
    const parent = propagation.extract(context.active(), metadata, metadataGetter);
    return tracer.startSpan(
      `${this.grpcService}/${rpc}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'rpc.system': 'grpc',
          'rpc.service': this.grpcService,
          'rpc.method': rpc,
          'giftcard.request_id': requestId,
        },
      },
      parent,
    );
  }
}
