import 'reflect-metadata';
import { ServerCredentials } from '@grpc/grpc-js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { DataSource } from 'typeorm';
import { GiftCardServiceService } from '../gen/giftcard/v1/gift_card_service';
import { CardLines } from './application/card-lines';
import { NO_TELEMETRY, type AppContext, type Clock } from './application/ports';
import { sweepLapsedHolds } from './application/sweep-lapsed-holds';
import { loadConfig, type Config } from './config';
import { startEvents, type RunningEvents } from './events/events';
import { CallObserver } from './observability/call-observer';
import { routeGrpcLogs } from './observability/grpc-logging';
import { createLogger, type Logger } from './observability/logger';
import { ServiceMetrics } from './observability/metrics';
import { serveMetrics, type MetricsEndpoint } from './observability/metrics-server';
import { startTracing } from './observability/tracing';
import { DatabaseHealthMonitor } from './persistence/database-health';
import { MysqlCardPath } from './persistence/card-path';
import { createCardPathPool, mysqlPoolStats, openDatabase, poolStats } from './persistence/data-source';
import { DatabaseEndpoints, DatabaseHostSelector } from './persistence/database-hosts';
import { TypeOrmLedgerSnapshots } from './persistence/ledger-snapshot.repository';
import { MysqlOutboxQueue } from './persistence/event-outbox.repository';
import { DURABILITY_VARIABLES, warnOfDurabilityRisks } from './persistence/durability-check';
import { framingOf, GALERA_VARIABLE, type TransactionFraming } from './persistence/guarded-transaction';
import { readServerVariables } from './persistence/server-variables';
import { RetentionSweeper } from './persistence/retention-sweeper';
import { roundTripTracer, traceQueries } from './persistence/traced-queries';
import { translateDatabaseError } from './persistence/attempts';
import { TypeOrmUnitOfWork } from './persistence/typeorm-unit-of-work';
import { HmacCardSecrets } from './security/card-secrets';
import { OPEN_POLICY } from './security/callers';
import { ReloadableCallers, SecurityReloader } from './security/reloader';
import { rpcNameOf } from './security/rpc-groups';
import { ReloadableServerCredentials } from './security/tls-credentials';
import { SERVICE_NAME, startServer, type RunningServer } from './transport/server';

/**
 * How often expired records are swept: idempotency records (kept at least a day), card secrets
 * past their replay window, and passcode failure records a cool-down old. Each sweep is a few
 * indexed, batched statements, so a minute costs little and keeps secrets from outliving their
 * window by more than that.
 */
const RETENTION_SWEEP_INTERVAL_MS = 60_000;
/** A batch's statements at most: far under MySQL's max_allowed_packet (16 MiB by default). */
const CARD_BATCH_MAX_BYTES = 1_048_576;

export interface Service {
  readonly server: RunningServer;
  readonly dataSource: DataSource;
  /** Runs one retention sweep now, as the timer does every minute. */
  sweepExpired(): Promise<void>;
  /** This process's outbox relay; null when events are off. */
  readonly events: RunningEvents | null;
  /** The Prometheus endpoint's port (METRICS_PORT, or the one chosen for 0); null when metrics are off. */
  readonly metricsPort: number | null;
  /** The operations as composed, for work no RPC starts (tests drive one hold sweep through it). */
  readonly app: AppContext;
  /** Loads the TLS files and the callers file again (SIGHUP); a broken file keeps what is in force. */
  reload(trigger: string): void;
  /** Graceful stop: health NOT_SERVING, drain calls, close the pool; bounded by the grace period. */
  stop(): Promise<void>;
}

/** What tests replace: where spans go, and a metrics port of the system's choosing. */
export interface ServiceOverrides {
  readonly spanExporter?: SpanExporter;
  /** Serve metrics on a port the system picks (Service.metricsPort says which), whatever METRICS_PORT says. */
  readonly ephemeralMetricsPort?: boolean;
  /** Tests move time by hand (hold expiry at an exact instant); everything else uses the system clock. */
  readonly clock?: Clock;
  /** Tests run a Galera node's guarded transactions on a single server; otherwise the database is asked. */
  readonly transactionFraming?: TransactionFraming;
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };

/**
 * Runs the task every intervalMs, never two at once (the next wait starts when one ends); a
 * failure is logged and the next run tries again. Returns the stop, which waits for a run in flight.
 */
function repeatEvery(
  intervalMs: number,
  task: () => Promise<void>,
  onError: (error: unknown) => void,
): () => Promise<void> {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const schedule = (): void => {
    timer = setTimeout(() => {
      running = task()
        .catch(onError)
        .finally(() => {
          if (!stopped) schedule();
        });
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return async () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    await running;
  };
}

/**
 * Closing the pool waits for each connection's QUIT, which a silent database never answers and a
 * statement still waiting on a row lock delays; past this the process exits without it.
 */
const POOL_CLOSE_TIMEOUT_MS = 2_000;
/**
 * Ctrl-C under `npm start` reaches the server twice, from the terminal and forwarded by npm, within
 * a few milliseconds; a second signal this soon is that same one, not a request to force the exit.
 */
const SAME_SIGNAL_WITHIN_MS = 250;

function withinMs(work: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([work, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

/** The composition root: config -> data source -> operations -> server, plus what observes them. */
export async function startService(config: Config, log: Logger, overrides: ServiceOverrides = {}): Promise<Service> {
  if (config.defaultedSecrets.length > 0) {
    log.warn(
      `SECURITY: ${config.defaultedSecrets.join(', ')} left at development defaults; ` +
        'anyone with this source can recompute card hashes. Set them before handling real cards.',
    );
  }
  // Undone in reverse if a later step fails, so a failed start leaves nothing running.
  const closers: (() => unknown)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse())
      await Promise.resolve()
        .then(close)
        .catch(() => undefined);
  };
  try {
    const tracing = startTracing({
      serviceName: config.serviceName,
      otlpEndpoint: config.otlpEndpoint,
      ...(overrides.spanExporter === undefined ? {} : { exporter: overrides.spanExporter }),
    });
    if (tracing !== null) closers.push(() => tracing.shutdown());
    const metricsPort = overrides.ephemeralMetricsPort === true ? 0 : config.metricsPort;
    const metrics =
      metricsPort === 0 && overrides.ephemeralMetricsPort !== true
        ? null
        : new ServiceMetrics(
            SERVICE_NAME,
            Object.values(GiftCardServiceService).map((method) => rpcNameOf(method.path)),
          );
    // One selector for every pool and the health probe: a failover moves all of them at once.
    const databaseHosts = new DatabaseHostSelector(DatabaseEndpoints.parse(config.databaseUrl));
    const dataSource = await openDatabase({
      url: config.databaseUrl,
      poolSize: config.dbPoolSize,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      hosts: databaseHosts,
    });
    if (databaseHosts.size > 1) {
      log.info('database node in use', { node: databaseHosts.inUseName, nodes: databaseHosts.size });
      databaseHosts.onMove(() => {
        log.info('database node in use', { node: databaseHosts.inUseName, nodes: databaseHosts.size });
      });
    }
    closers.push(() => withinMs(dataSource.destroy(), POOL_CLOSE_TIMEOUT_MS));
    const serverVariables = await readServerVariables(dataSource, [...DURABILITY_VARIABLES, GALERA_VARIABLE]);
    warnOfDurabilityRisks(serverVariables, log);
    if (tracing !== null) traceQueries(dataSource, tracing.tracer);
    const databaseHealth = new DatabaseHealthMonitor(
      { hosts: databaseHosts, intervalMs: config.dbHealthIntervalMs, timeoutMs: config.dbHealthTimeoutMs },
      log,
    );
    databaseHealth.start();
    closers.push(() => {
      databaseHealth.stop();
    });
    if (metrics !== null)
      databaseHealth.onChange((up) => {
        metrics.databaseReachable(up);
      });
    const events = config.events === null ? null : startEvents(config.events, new MysqlOutboxQueue(dataSource), log);
    if (events !== null) closers.push(() => withinMs(events.stop(), POOL_CLOSE_TIMEOUT_MS));
    if (events !== null && metrics !== null) events.relay.onLag(metrics.watchOutbox());
    const transactions = {
      maxAttempts: config.txMaxAttempts,
      lockWaitTimeoutSeconds: config.dbLockWaitTimeoutSeconds,
      databaseReachable: () => databaseHealth.isUp(),
      ...(events === null ? {} : { events: events.outbox }),
      ...(metrics === null
        ? {}
        : {
            onRetry: (reason: string) => {
              metrics.transactionRetried(reason);
            },
          }),
    };
    const framing = overrides.transactionFraming ?? framingOf(serverVariables);
    log.info('card path transactions framed', { framing: framing.name });
    const cardPathPool = createCardPathPool({
      url: config.databaseUrl,
      poolSize: config.dbPoolSize,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      hosts: databaseHosts,
    });
    metrics?.watchPools({
      unit_of_work: () => poolStats(dataSource, config.dbPoolSize),
      card_path: () => mysqlPoolStats(cardPathPool, config.dbPoolSize),
    });
    const cardPath = new MysqlCardPath(cardPathPool, {
      ...transactions,
      framing,
      ...(tracing === null ? {} : { traceRoundTrip: roundTripTracer(tracing.tracer) }),
    });
    closers.push(() => withinMs(cardPath.close(), POOL_CLOSE_TIMEOUT_MS));
    const cardLines = new CardLines({ maxOperations: config.cardBatchMaxOperations, maxBytes: CARD_BATCH_MAX_BYTES });
    metrics?.watchCardLines(() => cardLines.waiting());
    const app: AppContext = {
      uow: new TypeOrmUnitOfWork(dataSource, transactions),
      cardPath,
      cardLines,
      secrets: new HmacCardSecrets(config.secrets),
      clock: overrides.clock ?? SYSTEM_CLOCK,
      limits: {
        maxBalanceMinor: config.maxBalanceMinor,
        lockout: { maxFailedAttempts: config.passcodeMaxAttempts, cooldownMs: config.passcodeLockoutMs },
        idempotencyRetentionMs: config.idempotencyRetentionMs,
        cardSecretReplayWindowMs: config.cardSecretReplayWindowMs,
        holds: {
          defaultDurationMs: config.holdDefaultDurationMs,
          maxDurationMs: config.holdMaxDurationMs,
          maxOpenPerCard: config.maxActiveHoldsPerCard,
        },
      },
      telemetry: metrics ?? NO_TELEMETRY,
      ledgerSnapshots: new TypeOrmLedgerSnapshots(dataSource),
    };
    const credentials = config.tls === null ? null : ReloadableServerCredentials.load(config.tls);
    const callers = config.callersFile === null ? null : new ReloadableCallers(config.callersFile);
    const reloader = new SecurityReloader(credentials, callers, log);
    reloader.watch(config.reloadIntervalMs);
    closers.push(() => {
      reloader.stop();
    });
    const server = await startServer(app, {
      host: config.grpcHost,
      port: config.grpcPort,
      log,
      translateError: translateDatabaseError,
      database: databaseHealth,
      connections: config.connections,
      admission: config.admission,
      credentials: credentials ?? ServerCredentials.createInsecure(),
      callers: callers ?? OPEN_POLICY,
      observer: new CallObserver(SERVICE_NAME, log, metrics, tracing?.tracer ?? null, config.logCalls),
    });
    closers.push(() => server.shutdown(0));
    events?.reportHealth(server.healthDetails);
    const metricsEndpoint: MetricsEndpoint | null =
      metrics === null
        ? null
        : await serveMetrics(metrics.registry, { host: config.metricsHost, port: metricsPort }, log).catch(
            (error: unknown) => {
              throw new Error(
                `METRICS_HOST:METRICS_PORT ${config.metricsHost}:${config.metricsPort} cannot be bound: ${(error as Error).message}`,
                { cause: error },
              );
            },
          );
    const sweeper = new RetentionSweeper(dataSource, log, {
      passcodeCooldownMs: config.passcodeLockoutMs,
      sentEventRetentionMs: config.events?.retentionMs ?? null,
    });
    sweeper.start(RETENTION_SWEEP_INTERVAL_MS);
    const stopSweepingHolds =
      config.holdSweepIntervalMs === 0
        ? () => Promise.resolve()
        : repeatEvery(
            config.holdSweepIntervalMs,
            async () => {
              const expired = await sweepLapsedHolds(app);
              if (expired > 0) log.info('recorded lapsed holds as expired', { expired });
            },
            (error) => {
              log.warn('hold sweep failed; will retry', { error: String(error) });
            },
          );
    log.info('gift card service listening', {
      port: server.port,
      tls: credentials === null ? 'off' : config.tls?.clientCaFile === null ? 'tls' : 'mutual',
      callers: callers === null ? 'open (no CALLERS_FILE)' : callers.callerNames.join(','),
      metricsPort: metricsEndpoint?.port ?? null,
      tracing: tracing === null ? 'off' : 'on',
    });
    const stop = async (): Promise<void> => {
      sweeper.stop();
      await stopSweepingHolds();
      reloader.stop();
      await server.shutdown(config.shutdownGraceMs);
      // After the calls: the events they committed may still go out. What does not is sent by the
      // next process to start, from the outbox.
      if (events !== null) await withinMs(events.stop(), POOL_CLOSE_TIMEOUT_MS);
      databaseHealth.stop();
      await metricsEndpoint?.close();
      await withinMs(
        dataSource.destroy().catch((error: unknown) => {
          log.warn('closing the database pool failed', { error: String(error) });
        }),
        POOL_CLOSE_TIMEOUT_MS,
      );
      await withinMs(
        cardPath.close().catch((error: unknown) => {
          log.warn('closing the single-card pool failed', { error: String(error) });
        }),
        POOL_CLOSE_TIMEOUT_MS,
      );
      await tracing?.shutdown();
    };
    return {
      server,
      dataSource,
      metricsPort: metricsEndpoint?.port ?? null,
      app,
      reload: (trigger) => {
        reloader.reload(trigger);
      },
      sweepExpired: async () => {
        await sweeper.sweep();
      },
      events,
      stop,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Every way out of the process: the reason as a JSON line, flushed before the exit. */
function exit(log: Logger, code: number, message?: string, error?: unknown): never {
  if (message !== undefined) log.error(message, { error: error instanceof Error ? error.message : String(error) });
  log.flush();
  process.exit(code);
}

async function main(): Promise<void> {
  let log = createLogger('info');
  routeGrpcLogs(log);
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    exit(log, 1, 'gift card service failed to start', error);
  }
  log = createLogger(config.logLevel);
  routeGrpcLogs(log);
  let service: Service;
  try {
    service = await startService(config, log);
  } catch (error) {
    exit(log, 1, 'gift card service failed to start', error);
  }
  let firstSignalAtMs: number | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstSignalAtMs !== null) {
      if (Date.now() - firstSignalAtMs < SAME_SIGNAL_WITHIN_MS) return;
      log.warn('second signal: exiting now, without waiting for the calls in flight', { signal });
      exit(log, 1);
    }
    firstSignalAtMs = Date.now();
    log.info('shutting down', { signal });
    service.stop().then(
      () => exit(log, 0),
      (error: unknown) => exit(log, 1, 'shutdown failed', error),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {
    service.reload('SIGHUP');
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    exit(createLogger('info'), 1, 'gift card service failed', error);
  });
}
