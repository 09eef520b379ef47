import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OperationTelemetry } from '../application/ports';

/** The pool as the metrics see it, read at scrape time so the hot path pays nothing. */
export interface PoolStats {
  readonly size: number;
  readonly inUse: number;
  readonly waiting: number;
}

/** The event outbox as the relay last measured it (EVENTS_LAG_INTERVAL_MS). */
export interface OutboxBacklog {
  /** Unsent events, counted up to the relay's cap. */
  readonly rows: number;
  readonly oldestCreatedAt: Date | null;
}

type RpcLabels = Readonly<Record<'grpc_type' | 'grpc_service' | 'grpc_method', string>>;
type RpcCodeLabels = Readonly<Record<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code', string>>;

/** go-grpc-prometheus's default buckets (seconds): what its dashboards expect. */
const HANDLING_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Everything the service exports to Prometheus. The gRPC server series carry the names and labels
 * of go-grpc-prometheus; the rest are the service's own, prefixed `giftcard_`.
 */
export class ServiceMetrics implements OperationTelemetry {
  readonly registry = new Registry();
  private readonly started: Counter<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  private readonly handled: Counter<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code'>;
  private readonly received: Counter<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  private readonly sent: Counter<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  private readonly handling: Histogram<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  private readonly retries: Counter<'reason'>;
  private readonly replays: Counter<'grpc_method'>;
  private readonly lockouts: Counter;
  private readonly databaseUp: Gauge;
  private readonly rpcLabels = new Map<string, RpcLabels>();
  private readonly rpcCodeLabels = new Map<string, RpcCodeLabels>();

  constructor(
    private readonly grpcService: string,
    rpcNames: readonly string[],
  ) {
    const registers = [this.registry];
    const rpcLabels = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
    this.started = new Counter({
      name: 'grpc_server_started_total',
      help: 'Total number of RPCs started on the server.',
      labelNames: rpcLabels,
      registers,
    });
    this.handled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: [...rpcLabels, 'grpc_code'],
      registers,
    });
    this.received = new Counter({
      name: 'grpc_server_msg_received_total',
      help: 'Total number of RPC stream messages received on the server.',
      labelNames: rpcLabels,
      registers,
    });
    this.sent = new Counter({
      name: 'grpc_server_msg_sent_total',
      help: 'Total number of gRPC stream messages sent by the server.',
      labelNames: rpcLabels,
      registers,
    });
    this.handling = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames: rpcLabels,
      buckets: HANDLING_BUCKETS_S,
      registers,
    });
    this.retries = new Counter({
      name: 'giftcard_db_transaction_retries_total',
      help: 'Database transactions run again after a deadlock, lock wait timeout or snapshot conflict.',
      labelNames: ['reason'],
      registers,
    });
    this.replays = new Counter({
      name: 'giftcard_idempotent_replays_total',
      help: 'Calls answered with the stored response of an earlier call with the same idempotency key.',
      labelNames: ['grpc_method'],
      registers,
    });
    this.lockouts = new Counter({
      name: 'giftcard_passcode_lockouts_total',
      help: 'Card numbers, known or not, whose passcode checks went into the cool-down after too many wrong passcodes.',
      registers,
    });
    this.databaseUp = new Gauge({
      name: 'giftcard_database_up',
      help: '1 while the database answers the health probe, 0 while calls are refused UNAVAILABLE.',
      registers,
    });
    this.databaseUp.set(1);
    collectDefaultMetrics({ register: this.registry });
    // Every RPC shows from the first scrape, at zero, as go-grpc-prometheus's InitializeMetrics does:
    // a rate() over a series that appears only on its first call misses that call.
    for (const rpc of rpcNames) {
      const labels = this.labels(rpc);
      this.started.inc(labels, 0);
      this.handled.inc({ ...labels, grpc_code: 'OK' }, 0);
      this.handling.zero(labels);
    }
  }

  callStarted(rpc: string): void {
    const labels = this.labels(rpc);
    this.started.inc(labels);
    this.received.inc(labels);
  }

  callHandled(rpc: string, codeName: string, seconds: number): void {
    const labels = this.labels(rpc);
    this.handled.inc(this.labelsWithCode(rpc, codeName));
    this.handling.observe(labels, seconds);
    if (codeName === 'OK') this.sent.inc(labels);
  }

  transactionRetried(reason: string): void {
    this.retries.inc({ reason });
  }

  idempotentReplay(operation: string): void {
    this.replays.inc({ grpc_method: operation });
  }

  passcodeLockout(): void {
    this.lockouts.inc();
  }

  databaseReachable(up: boolean): void {
    this.databaseUp.set(up ? 1 : 0);
  }

  /**
   * Pool gauges, read from the pools when Prometheus scrapes, one series per pool: the unit of
   * work's (TypeORM) and the single-card path's own, which carries most redemptions.
   */
  watchPools(pools: Readonly<Record<string, () => PoolStats>>): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: (stats: PoolStats) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['pool'],
        registers,
        collect() {
          for (const [pool, stats] of Object.entries(pools)) this.set({ pool }, read(stats()));
        },
      });
    };
    gauge('giftcard_db_pool_connections', 'Database connections the pool may open (DB_POOL_SIZE).', (s) => s.size);
    gauge('giftcard_db_pool_in_use', 'Database connections lent to a call right now.', (s) => s.inUse);
    gauge('giftcard_db_pool_waiting', 'Calls waiting for a free database connection.', (s) => s.waiting);
  }

  /** Calls waiting in a card's line behind the transaction in flight on it (they go in its next batch). */
  watchCardLines(waiting: () => number): void {
    new Gauge({
      name: 'giftcard_card_line_waiting_calls',
      help: 'Calls waiting for the transaction in flight on their card, to be applied together in its next one.',
      registers: [this.registry],
      collect() {
        this.set(waiting());
      },
    });
  }

  /**
   * Outbox gauges, registered only when events are on (no series that can only read zero): returns
   * what each lag measurement is handed to. The age is taken at scrape time, so it keeps growing
   * if the measurements themselves stop.
   */
  watchOutbox(): (backlog: OutboxBacklog) => void {
    const registers = [this.registry];
    let latest: OutboxBacklog = { rows: 0, oldestCreatedAt: null };
    new Gauge({
      name: 'giftcard_events_outbox_unsent',
      help: 'Events committed but not yet published, as last counted (capped at the relay count limit).',
      registers,
      collect() {
        this.set(latest.rows);
      },
    });
    new Gauge({
      name: 'giftcard_events_outbox_oldest_unsent_age_seconds',
      help: 'How long the oldest unpublished event has waited; 0 when none waits.',
      registers,
      collect() {
        const oldest = latest.oldestCreatedAt;
        this.set(oldest === null ? 0 : Math.max(0, (Date.now() - oldest.getTime()) / 1000));
      },
    });
    return (backlog) => {
      latest = backlog;
    };
  }

  /** Built once per RPC (and code) and reused: a call's metrics allocate nothing of their own. */
  private labels(rpc: string): RpcLabels {
    let labels = this.rpcLabels.get(rpc);
    if (labels === undefined) {
      labels = Object.freeze({ grpc_type: 'unary', grpc_service: this.grpcService, grpc_method: rpc });
      this.rpcLabels.set(rpc, labels);
    }
    return labels;
  }

  private labelsWithCode(rpc: string, codeName: string): RpcCodeLabels {
    const key = `${rpc} ${codeName}`;
    let labels = this.rpcCodeLabels.get(key);
    if (labels === undefined) {
      labels = Object.freeze({ ...this.labels(rpc), grpc_code: codeName });
      this.rpcCodeLabels.set(key, labels);
    }
    return labels;
  }
}
