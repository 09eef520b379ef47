import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface Tracing {
  readonly tracer: Tracer;
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  readonly serviceName: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: spans go to `<endpoint>/v1/traces` as OTLP/HTTP. */
  readonly otlpEndpoint: string | null;
  /** Replaces the OTLP exporter, each span exported as it ends: tests read spans from memory. */
  readonly exporter?: SpanExporter;
}

/**
 * OpenTelemetry tracing, off (null) unless a collector or an exporter is given. Registering the
 * provider installs the AsyncLocalStorage context manager, which carries the RPC's span to the SQL
 * spans under it through every await, and the W3C propagator that reads a caller's `traceparent`.
 */
export function startTracing(options: TracingOptions): Tracing | null {
  if (options.exporter === undefined && options.otlpEndpoint === null) return null;
  const processor =
    options.exporter !== undefined
      ? new SimpleSpanProcessor(options.exporter)
      : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.otlpEndpoint ?? ''}/v1/traces` }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [processor],
  });
  provider.register();
  return {
    tracer: provider.getTracer('giftcard-service'),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
