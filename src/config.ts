import { createHash } from 'node:crypto';
import { DatabaseEndpoints } from './persistence/database-hosts';

/** Everything the service reads from its environment, parsed and checked once at start. */
export interface Config {
  readonly databaseUrl: string;
  readonly dbPoolSize: number;
  readonly dbConnectTimeoutMs: number;
  readonly dbLockWaitTimeoutSeconds: number;
  readonly txMaxAttempts: number;
  /** Calls on one card applied in one transaction at most; 1 runs each by itself. */
  readonly cardBatchMaxOperations: number;
  readonly dbHealthIntervalMs: number;
  readonly dbHealthTimeoutMs: number;
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly maxBalanceMinor: bigint;
  readonly passcodeMaxAttempts: number;
  readonly passcodeLockoutMs: number;
  readonly idempotencyRetentionMs: number;
  readonly holdDefaultDurationMs: number;
  readonly holdMaxDurationMs: number;
  readonly maxActiveHoldsPerCard: number;
  /** 0 turns the sweeper off: holds still stop counting at their expire time, on every read. */
  readonly holdSweepIntervalMs: number;
  readonly shutdownGraceMs: number;
  /** How long a stored reply keeps a new card's number and passcode for replay. */
  readonly cardSecretReplayWindowMs: number;
  readonly admission: AdmissionSettings;
  readonly connections: ConnectionSettings;
  readonly logLevel: LogLevel;
  /** One request-log line per call (at info); off leaves the other lines alone. */
  readonly logCalls: boolean;
  /** NODE_ENV=production: no development keys, no plaintext, no open door without a callers file. */
  readonly production: boolean;
  /** Server certificate and key; with a client CA too, callers must present a certificate it signed. */
  readonly tls: TlsFiles | null;
  /** Polling interval for certificate and callers file changes; SIGHUP reloads at once. */
  readonly reloadIntervalMs: number;
  /** Who may call what (security/callers.ts); null lets every caller call everything, outside production. */
  readonly callersFile: string | null;
  readonly metricsHost: string;
  /** Prometheus text on this port; 0 turns the endpoint off. */
  readonly metricsPort: number;
  /** OTLP/HTTP collector for traces; null turns tracing off. */
  readonly otlpEndpoint: string | null;
  readonly serviceName: string;
  readonly secrets: {
    readonly numberIndexKey: Buffer;
    readonly passcodeKey: Buffer;
    readonly sealingKey: Buffer;
  };
  /** Names of the secrets left at their development defaults: fine on a laptop, fatal in production. */
  readonly defaultedSecrets: readonly string[];
  /** Events for other services (SPEC §11); null, and nothing written or connected, without EVENTS_AMQP_URL. */
  readonly events: EventSettings | null;
}

export interface EventSettings {
  readonly amqpUrl: string;
  /** The durable topic exchange events are published to. */
  readonly exchange: string;
  readonly batchSize: number;
  readonly pollIntervalMs: number;
  /** Connecting to the broker, and a batch's wait for its confirms. */
  readonly publishTimeoutMs: number;
  readonly maxBackoffMs: number;
  readonly retentionMs: number;
  readonly lagIntervalMs: number;
  /** Health detail turns NOT_SERVING while the oldest unsent event is older than this. */
  readonly lagAlertMs: number;
}

/** Admission control: the calls served at once and those waiting for a turn (issue 10). */
export interface AdmissionSettings {
  readonly maxInFlight: number;
  readonly maxQueued: number;
  readonly maxQueueWaitMs: number;
}

/** What one client may hold of the server: connections, streams, and for how long (issue 10). */
export interface ConnectionSettings {
  readonly maxConnections: number;
  readonly maxConcurrentStreams: number;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxAgeMs: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly maxHealthWatches: number;
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string | null;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const HOUR_MS = 3_600_000;
/** SPEC §5: idempotency keys are kept at least 24 hours. */
const MIN_IDEMPOTENCY_RETENTION_MS = 24 * HOUR_MS;
const DAY_MS = 24 * HOUR_MS;
/**
 * A hold is money promised to a capture that may never come; a year is past any card network's
 * authorization lifetime, and keeps expire times far inside what DATETIME stores.
 */
const LONGEST_HOLD_MS = 365 * DAY_MS;

type Env = Readonly<Record<string, string | undefined>>;

class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const value = this.env[name];
    return value === undefined || value === '' ? fallback : value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw !== 'true' && raw !== 'false') this.problems.push(`${name} must be true or false, got "${raw}"`);
    return raw === 'true';
  }

  optional(name: string): string | null {
    const value = this.env[name];
    return value === undefined || value === '' ? null : value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  bigint(name: string, fallback: bigint, min: bigint, max: bigint): bigint {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || BigInt(raw) < min || BigInt(raw) > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return BigInt(raw);
  }

  /** A 32-byte key as 64 hex characters or base64; absent, a fixed development key is derived. */
  key(name: string, defaulted: string[]): Buffer {
    const raw = this.env[name];
    if (raw === undefined || raw === '') {
      defaulted.push(name);
      return createHash('sha256').update(`giftcard-dev-only:${name}`).digest();
    }
    const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
    if (key.length !== 32) this.problems.push(`${name} must be 32 bytes, as 64 hex characters or base64`);
    return key;
  }
}

/** A repeating pattern up to this long, or fewer distinct bytes than this, is not a random key. */
const WEAK_KEY_PATTERN_BYTES = 16;

/** All zeros, one repeated byte, a short pattern repeated: a placeholder, not a key. */
function isWeakKey(key: Buffer): boolean {
  if (new Set(key).size < WEAK_KEY_PATTERN_BYTES) return true;
  for (let period = 1; period <= WEAK_KEY_PATTERN_BYTES && period < key.length; period++) {
    if (key.every((byte, i) => byte === key[i % period])) return true;
  }
  return false;
}

/** Each key has one purpose: the same key in two settings, or a weak one, is refused at start. */
function checkKeys(keys: Readonly<Record<string, Buffer>>, problems: string[]): void {
  const named = Object.entries(keys);
  for (const [name, key] of named) {
    // A key of the wrong length is already reported by the reader.
    if (key.length === 32 && isWeakKey(key)) {
      problems.push(`${name} is a weak key (a repeated pattern); generate 32 random bytes`);
    }
  }
  named.forEach(([name, key], i) => {
    for (const [other, otherKey] of named.slice(i + 1)) {
      if (key.equals(otherKey)) problems.push(`${name} and ${other} hold the same key; each needs its own`);
    }
  });
}

/** An AMQP exchange name: what RabbitMQ accepts, without the reserved amq. prefix. */
const EXCHANGE_NAME = /^(?!amq\.)[A-Za-z0-9_.:-]{1,127}$/;

function eventSettings(read: EnvReader): EventSettings | null {
  const amqpUrl = read.string('EVENTS_AMQP_URL', '');
  const exchange = read.string('EVENTS_EXCHANGE', 'giftcard.events');
  if (!EXCHANGE_NAME.test(exchange)) {
    read.problems.push('EVENTS_EXCHANGE must be 1 to 127 letters, digits, "_.:-", not starting with "amq."');
  }
  const settings: EventSettings = {
    amqpUrl,
    exchange,
    // A batch is one transaction and one wait for confirms: large enough to amortise both, small
    // enough that its row locks and its publish stay short.
    batchSize: read.integer('EVENTS_BATCH_SIZE', 100, 1, 1_000),
    pollIntervalMs: read.integer('EVENTS_POLL_INTERVAL_MS', 500, 10, 60_000),
    publishTimeoutMs: read.integer('EVENTS_PUBLISH_TIMEOUT_MS', 5_000, 100, 120_000),
    maxBackoffMs: read.integer('EVENTS_MAX_BACKOFF_MS', 30_000, 100, 600_000),
    retentionMs: read.integer('EVENTS_RETENTION_MS', DAY_MS, 60_000, 30 * DAY_MS),
    lagIntervalMs: read.integer('EVENTS_LAG_INTERVAL_MS', 5_000, 100, 600_000),
    lagAlertMs: read.integer('EVENTS_LAG_ALERT_MS', 60_000, 1_000, DAY_MS),
  };
  if (amqpUrl === '') return null;
  if (!/^amqps?:\/\//.test(amqpUrl)) read.problems.push('EVENTS_AMQP_URL must be an amqp:// or amqps:// URL');
  return settings;
}

export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  const defaultedSecrets: string[] = [];
  const databaseUrl = read.string('DATABASE_URL', 'mysql://root@127.0.0.1:3306/giftcard');
  try {
    DatabaseEndpoints.parse(databaseUrl);
  } catch (error) {
    read.problems.push((error as Error).message);
  }
  const logLevel = read.string('LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    read.problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const dbPoolSize = read.integer('DB_POOL_SIZE', 16, 1, 512);
  const idempotencyRetentionMs = read.integer(
    'IDEMPOTENCY_RETENTION_MS',
    MIN_IDEMPOTENCY_RETENTION_MS,
    MIN_IDEMPOTENCY_RETENTION_MS,
    365 * 24 * HOUR_MS,
  );
  const production = env.NODE_ENV === 'production';
  const tls = tlsFiles(read);
  const callersFile = read.optional('CALLERS_FILE');
  const otlpEndpoint = read.optional('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (otlpEndpoint !== null && !/^https?:\/\//.test(otlpEndpoint)) {
    read.problems.push('OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL');
  }
  const config: Config = {
    databaseUrl,
    dbPoolSize,
    dbConnectTimeoutMs: read.integer('DB_CONNECT_TIMEOUT_MS', 2_000, 100, 60_000),
    dbLockWaitTimeoutSeconds: read.integer('DB_LOCK_WAIT_TIMEOUT_SECONDS', 2, 1, 60),
    txMaxAttempts: read.integer('TX_MAX_ATTEMPTS', 4, 1, 20),
    cardBatchMaxOperations: read.integer('CARD_BATCH_MAX_OPERATIONS', 32, 1, 256),
    // How quickly the service notices the database is gone (and back): health flips within about
    // interval + timeout, and until then calls fail on their own connect timeout instead.
    dbHealthIntervalMs: read.integer('DB_HEALTH_INTERVAL_MS', 1_000, 50, 60_000),
    dbHealthTimeoutMs: read.integer('DB_HEALTH_TIMEOUT_MS', 1_000, 50, 60_000),
    grpcHost: read.string('GRPC_HOST', '0.0.0.0'),
    grpcPort: read.integer('GRPC_PORT', 50051, 0, 65535),
    // 10,000.00 in a two-decimal currency: the largest balance any card may hold.
    maxBalanceMinor: read.bigint('MAX_BALANCE_MINOR', 1_000_000n, 1n, 2n ** 62n),
    passcodeMaxAttempts: read.integer('PASSCODE_MAX_ATTEMPTS', 5, 1, 100),
    passcodeLockoutMs: read.integer('PASSCODE_LOCKOUT_MS', 15 * 60_000, 1_000, 7 * 24 * HOUR_MS),
    idempotencyRetentionMs,
    // SPEC §7: a hold lasts 7 days unless the request asks for less (or, up to the maximum, more).
    holdDefaultDurationMs: read.integer('HOLD_DEFAULT_DURATION_MS', 7 * DAY_MS, 1_000, LONGEST_HOLD_MS),
    holdMaxDurationMs: read.integer('HOLD_MAX_DURATION_MS', 30 * DAY_MS, 1_000, LONGEST_HOLD_MS),
    maxActiveHoldsPerCard: read.integer('MAX_ACTIVE_HOLDS_PER_CARD', 50, 1, 1_000),
    holdSweepIntervalMs: read.integer('HOLD_SWEEP_INTERVAL_MS', 60_000, 0, DAY_MS),
    shutdownGraceMs: read.integer('SHUTDOWN_GRACE_MS', 10_000, 0, 120_000),
    // Long enough for a caller to retry through an outage, short enough that a leaked table and
    // key expose only the last hour's new cards; never longer than the record itself lives.
    cardSecretReplayWindowMs: read.integer('CARD_SECRET_REPLAY_WINDOW_MS', HOUR_MS, 1_000, idempotencyRetentionMs),
    admission: {
      // Twice the pool keeps every connection busy while the next calls wait in line for one.
      maxInFlight: read.integer('MAX_IN_FLIGHT_CALLS', 2 * dbPoolSize, 1, 100_000),
      maxQueued: read.integer('MAX_QUEUED_CALLS', 8 * dbPoolSize, 0, 1_000_000),
      maxQueueWaitMs: read.integer('MAX_QUEUE_WAIT_MS', 1_000, 0, 60_000),
    },
    connections: {
      maxConnections: read.integer('GRPC_MAX_CONNECTIONS', 1_000, 1, 1_000_000),
      maxConcurrentStreams: read.integer('GRPC_MAX_CONCURRENT_STREAMS', 100, 1, 10_000),
      handshakeTimeoutMs: read.integer('GRPC_HANDSHAKE_TIMEOUT_MS', 10_000, 100, 600_000),
      idleTimeoutMs: read.integer('GRPC_CONNECTION_IDLE_MS', 5 * 60_000, 100, 24 * HOUR_MS),
      maxAgeMs: read.integer('GRPC_CONNECTION_AGE_MS', 30 * 60_000, 1_000, 7 * 24 * HOUR_MS),
      keepaliveTimeMs: read.integer('GRPC_KEEPALIVE_TIME_MS', 2 * 60_000, 100, 24 * HOUR_MS),
      keepaliveTimeoutMs: read.integer('GRPC_KEEPALIVE_TIMEOUT_MS', 20_000, 100, 10 * 60_000),
      maxHealthWatches: read.integer('HEALTH_MAX_WATCHES', 100, 1, 100_000),
    },
    logLevel: logLevel as LogLevel,
    logCalls: read.boolean('LOG_CALLS', true),
    production,
    tls,
    reloadIntervalMs: read.integer('RELOAD_INTERVAL_MS', 30_000, 100, HOUR_MS),
    callersFile,
    metricsHost: read.string('METRICS_HOST', '0.0.0.0'),
    metricsPort: read.integer('METRICS_PORT', 9464, 0, 65535),
    otlpEndpoint,
    serviceName: read.string('OTEL_SERVICE_NAME', 'giftcard-service'),
    secrets: {
      numberIndexKey: read.key('CARD_NUMBER_INDEX_KEY', defaultedSecrets),
      passcodeKey: read.key('PASSCODE_HASH_KEY', defaultedSecrets),
      sealingKey: read.key('RESPONSE_SEALING_KEY', defaultedSecrets),
    },
    defaultedSecrets,
    events: eventSettings(read),
  };
  checkKeys(
    {
      CARD_NUMBER_INDEX_KEY: config.secrets.numberIndexKey,
      PASSCODE_HASH_KEY: config.secrets.passcodeKey,
      RESPONSE_SEALING_KEY: config.secrets.sealingKey,
    },
    read.problems,
  );
  if (config.holdDefaultDurationMs > config.holdMaxDurationMs) {
    read.problems.push('HOLD_DEFAULT_DURATION_MS must not exceed HOLD_MAX_DURATION_MS');
  }
  if (production) read.problems.push(...productionProblems(config));
  if (read.problems.length > 0) {
    throw new Error(`invalid configuration:\n  ${read.problems.join('\n  ')}`);
  }
  return Object.freeze(config);
}

function tlsFiles(read: EnvReader): TlsFiles | null {
  const certFile = read.optional('TLS_CERT_FILE');
  const keyFile = read.optional('TLS_KEY_FILE');
  const clientCaFile = read.optional('TLS_CLIENT_CA_FILE');
  if (certFile === null && keyFile === null) {
    if (clientCaFile !== null) read.problems.push('TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE');
    return null;
  }
  if (certFile === null || keyFile === null) {
    read.problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
    return null;
  }
  return { certFile, keyFile, clientCaFile };
}

/** SPEC §12: what a production process refuses to start without, each naming its setting. */
function productionProblems(config: Config): string[] {
  const problems = config.defaultedSecrets.map(
    (name) => `${name} is at its public development value; NODE_ENV=production needs a real key`,
  );
  if (config.tls === null) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set: NODE_ENV=production does not serve plaintext');
  }
  if (config.callersFile === null) {
    problems.push('CALLERS_FILE must be set: NODE_ENV=production does not let unknown callers in');
  }
  return problems;
}
