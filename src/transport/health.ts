import {
  status as GrpcStatus,
  type sendUnaryData,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { domainErrorStatus } from './error-status';
import { isMalformedRequest, malformedRequest, withTolerantDecoding } from './unary';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';
type WatchedStatus = ServingStatus | 'SERVICE_UNKNOWN';

interface HealthCheckRequest {
  readonly service: string;
}

interface HealthCheckResponse {
  readonly status: WatchedStatus;
}

interface Watch {
  readonly service: string;
  readonly call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;
}

/**
 * grpc.health.v1.Health with bounds (issue 10). grpc-health-check's implementation holds every
 * Watch stream for as long as the client keeps it open, however many, and keeps a watcher list for
 * every service name anyone asked about; an open Watch also held the SIGTERM drain until the grace
 * period ended. Here at most `maxWatches` streams are held at once (more are refused with
 * RESOURCE_EXHAUSTED), and stopping ends every one of them after its last status. Bytes that are
 * not a request are INVALID_ARGUMENT, as everywhere else, where grpc-js would answer INTERNAL.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watches = new Set<Watch>();

  constructor(
    private readonly services: readonly string[],
    private readonly maxWatches: number,
  ) {}

  setStatus(status: ServingStatus): void {
    for (const service of this.services) this.statuses.set(service, status);
    for (const watch of this.watches) watch.call.write({ status: this.statusOf(watch.service) });
  }

  /**
   * Sets the entry of one part of the service (the event outbox), apart from the service's own
   * entries: the part can report trouble while the service stays SERVING.
   */
  setDetail(service: string, status: ServingStatus): void {
    if (this.services.includes(service)) throw new Error(`"${service}" is one of the service's own entries`);
    this.statuses.set(service, status);
    for (const watch of this.watches) if (watch.service === service) watch.call.write({ status });
  }

  /** Ends every Watch stream with UNAVAILABLE, so that none holds the server's drain. */
  endWatches(): void {
    for (const watch of [...this.watches]) {
      this.watches.delete(watch);
      watch.call.emit('error', { code: GrpcStatus.UNAVAILABLE, details: 'the server is shutting down' });
    }
  }

  addTo(server: Server): void {
    server.addService(withTolerantDecoding(healthServiceDefinition), {
      check: (
        call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
        callback: sendUnaryData<HealthCheckResponse>,
      ) => {
        if (isMalformedRequest(call.request)) {
          callback(domainErrorStatus(malformedRequest()));
          return;
        }
        const status = this.statuses.get(call.request.service);
        if (status === undefined) callback({ code: GrpcStatus.NOT_FOUND, details: 'unknown service' });
        else callback(null, { status });
      },
      watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        this.watch(call);
      },
      list: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        callback(null, {
          statuses: Object.fromEntries([...this.statuses].map(([service, status]) => [service, { status }])),
        });
      },
    });
  }

  private statusOf(service: string): WatchedStatus {
    return this.statuses.get(service) ?? 'SERVICE_UNKNOWN';
  }

  private watch(call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>): void {
    if (isMalformedRequest(call.request)) {
      call.emit('error', domainErrorStatus(malformedRequest()));
      return;
    }
    if (this.watches.size >= this.maxWatches) {
      call.emit('error', { code: GrpcStatus.RESOURCE_EXHAUSTED, details: 'too many health watches; use Check' });
      return;
    }
    const watch: Watch = { service: call.request.service, call };
    this.watches.add(watch);
    call.on('cancelled', () => this.watches.delete(watch));
    call.write({ status: this.statusOf(watch.service) });
  }
}
