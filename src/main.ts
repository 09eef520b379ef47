import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { AppContext } from './application/ports';
import { loadConfig, type Config } from './config';
import { startEvents, type RunningEvents } from './events/events';
import { createLogger, type Logger } from './logger';
import { DatabaseHealthMonitor } from './persistence/database-health';
import { MysqlOutboxQueue } from './persistence/event-outbox.repository';
import { openDatabase } from './persistence/data-source';
import { warnOfDurabilityRisks } from './persistence/durability-check';
import { RetentionSweeper } from './persistence/retention-sweeper';
import { translateDatabaseError, TypeOrmUnitOfWork } from './persistence/typeorm-unit-of-work';
import { HmacCardSecrets } from './security/card-secrets';
import { startServer, type RunningServer } from './transport/server';

/**
 * How often expired records are swept: idempotency records (kept at least a day), card secrets
 * past their replay window, and passcode failure records a cool-down old. Each sweep is a few
 * indexed, batched statements, so a minute costs little and keeps secrets from outliving their
 * window by more than that.
 */
const RETENTION_SWEEP_INTERVAL_MS = 60_000;

export interface Service {
  readonly server: RunningServer;
  readonly dataSource: DataSource;
  /** Runs one retention sweep now, as the timer does every minute. */
  sweepExpired(): Promise<void>;
  /** This process's outbox relay; null when events are off. */
  readonly events: RunningEvents | null;
  /** Graceful stop: health NOT_SERVING, drain calls, close the pool; bounded by the grace period. */
  stop(): Promise<void>;
}

/**
 * Closing the pool waits for each connection's QUIT, which a silent database never answers and a
 * statement still waiting on a row lock delays; past this the process exits without it.
 */
const POOL_CLOSE_TIMEOUT_MS = 2_000;

function withinMs(work: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([work, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

/** The composition root: config -> data source -> operations -> server. */
export async function startService(config: Config, log: Logger): Promise<Service> {
  if (config.defaultedSecrets.length > 0) {
    log.warn(
      `SECURITY: ${config.defaultedSecrets.join(', ')} left at development defaults; ` +
        'anyone with this source can recompute card hashes. Set them before handling real cards.',
    );
  }
  const dataSource = await openDatabase({
    url: config.databaseUrl,
    poolSize: config.dbPoolSize,
    connectTimeoutMs: config.dbConnectTimeoutMs,
  });
  await warnOfDurabilityRisks(dataSource, log);
  const databaseHealth = new DatabaseHealthMonitor(
    { url: config.databaseUrl, intervalMs: config.dbHealthIntervalMs, timeoutMs: config.dbHealthTimeoutMs },
    log,
  );
  databaseHealth.start();
  const events = config.events === null ? null : startEvents(config.events, new MysqlOutboxQueue(dataSource), log);
  const app: AppContext = {
    uow: new TypeOrmUnitOfWork(dataSource, {
      maxAttempts: config.txMaxAttempts,
      lockWaitTimeoutSeconds: config.dbLockWaitTimeoutSeconds,
      databaseReachable: () => databaseHealth.isUp(),
      ...(events === null ? {} : { events: events.outbox }),
    }),
    secrets: new HmacCardSecrets(config.secrets),
    clock: { now: () => new Date() },
    limits: {
      maxBalanceMinor: config.maxBalanceMinor,
      lockout: { maxFailedAttempts: config.passcodeMaxAttempts, cooldownMs: config.passcodeLockoutMs },
      idempotencyRetentionMs: config.idempotencyRetentionMs,
      cardSecretReplayWindowMs: config.cardSecretReplayWindowMs,
    },
  };
  const server = await startServer(app, {
    host: config.grpcHost,
    port: config.grpcPort,
    log,
    translateError: translateDatabaseError,
    database: databaseHealth,
    connections: config.connections,
    admission: config.admission,
  });
  events?.reportHealth(server.healthDetails);
  const sweeper = new RetentionSweeper(dataSource, log, {
    passcodeCooldownMs: config.passcodeLockoutMs,
    sentEventRetentionMs: config.events?.retentionMs ?? null,
  });
  sweeper.start(RETENTION_SWEEP_INTERVAL_MS);
  log.info('gift card service listening', { port: server.port });
  const stop = async (): Promise<void> => {
    sweeper.stop();
    await server.shutdown(config.shutdownGraceMs);
    // After the calls: the events they committed may still go out. What does not is sent by the
    // next process to start, from the outbox.
    if (events !== null) await withinMs(events.stop(), POOL_CLOSE_TIMEOUT_MS);
    databaseHealth.stop();
    await withinMs(
      dataSource.destroy().catch((error: unknown) => {
        log.warn('closing the database pool failed', { error: String(error) });
      }),
      POOL_CLOSE_TIMEOUT_MS,
    );
  };
  const sweepExpired = async (): Promise<void> => {
    await sweeper.sweep();
  };
  return { server, dataSource, sweepExpired, events, stop };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const service = await startService(config, log);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `gift card service failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
