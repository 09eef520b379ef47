import { createPool, type Pool } from 'mysql2';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { DatabaseEndpoints, DatabaseHostSelector } from './database-hosts';
import { CardAccessEntity } from './entities/card-access.entity';
import { CardHoldEntity } from './entities/card-hold.entity';
import { EventOutboxEntity } from './entities/event-outbox.entity';
import { GiftCardEntity } from './entities/gift-card.entity';
import { IdempotencyRecordEntity } from './entities/idempotency-record.entity';
import { HoldEventEntity } from './entities/hold-event.entity';
import { LedgerEntryEntity } from './entities/ledger-entry.entity';
import { PasscodeFailureEntity } from './entities/passcode-failure.entity';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { UniqueFundingReference1764100000000 } from './migrations/1764100000000-unique-funding-reference';
import { PasscodeFailures1764100001000 } from './migrations/1764100001000-passcode-failures';
import { IdempotencyRecordFormat1764100002000 } from './migrations/1764100002000-idempotency-record-format';
import { IdempotencyKeyPerCaller1764200000000 } from './migrations/1764200000000-idempotency-key-per-caller';
import { CardHolds1764300000000 } from './migrations/1764300000000-card-holds';
import { Reversals1764300000100 } from './migrations/1764300000100-reversals';
import { EventOutbox1764500000000 } from './migrations/1764500000000-event-outbox';
import { IdempotencyOperationId1764600000000 } from './migrations/1764600000000-idempotency-operation-id';
import { CardLifecycle1764700000000 } from './migrations/1764700000000-card-lifecycle';

export interface DatabaseOptions {
  /** One host, or several nodes of a cluster separated by commas (database-hosts.ts). */
  readonly url: string;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  /** The host in use, shared with every other pool and the health probe; made from `url` when absent. */
  readonly hosts?: DatabaseHostSelector;
}

export function hostSelectorOf(options: DatabaseOptions): DatabaseHostSelector {
  return options.hosts ?? new DatabaseHostSelector(DatabaseEndpoints.parse(options.url));
}

/**
 * What a mysql2 pool or connection needs, besides its URL's user, password and database, to reach
 * the host in use: every pool the service opens spreads these into its options, so all of them
 * follow a failover. With one host, nothing: mysql2 connects to the URL's host itself.
 */
export function hostConnectOptions(hosts: DatabaseHostSelector): { stream?: DatabaseHostSelector['connect'] } {
  return hosts.size === 1 ? {} : { stream: hosts.connect };
}

export const entities = [
  GiftCardEntity,
  LedgerEntryEntity,
  IdempotencyRecordEntity,
  CardAccessEntity,
  PasscodeFailureEntity,
  EventOutboxEntity,
  CardHoldEntity,
  HoldEventEntity,
];
export const migrations = [
  InitialSchema1764000000000,
  UniqueFundingReference1764100000000,
  PasscodeFailures1764100001000,
  IdempotencyRecordFormat1764100002000,
  IdempotencyKeyPerCaller1764200000000,
  CardHolds1764300000000,
  Reversals1764300000100,
  EventOutbox1764500000000,
  IdempotencyOperationId1764600000000,
  CardLifecycle1764700000000,
];

export function createDataSource(options: DatabaseOptions): DataSource {
  const hosts = hostSelectorOf(options);
  return new DataSource({
    type: 'mysql',
    url: hosts.endpoints.urlOf(hosts.inUse),
    entities,
    migrations,
    migrationsTableName: 'schema_migration',
    // The schema changes only through migrations, never by TypeORM's guess at a diff.
    synchronize: false,
    // BIGINT arrives as a decimal string and becomes a bigint in the entity transformers.
    supportBigNumbers: true,
    bigNumberStrings: true,
    // Dates are UTC instants in DATETIME(3) columns, whatever the server's time zone.
    timezone: 'Z',
    charset: 'utf8mb4_bin',
    connectTimeout: options.connectTimeoutMs,
    poolSize: options.poolSize,
    extra: {
      // Fail fast while the database is down instead of queueing calls behind a dead pool.
      queueLimit: options.poolSize * 8,
      enableKeepAlive: true,
      ...hostConnectOptions(hosts),
    },
  });
}

/**
 * The single-card path's pool (persistence/card-path.ts): the same server, options and size as the
 * data source's, plus multiple statements per round trip. Its own pool, so the path's connections
 * never wait behind the unit of work's, and every pool the service opens is built here.
 */
export function createCardPathPool(options: DatabaseOptions): Pool {
  const hosts = hostSelectorOf(options);
  return createPool({
    uri: hosts.endpoints.urlOf(hosts.inUse),
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
    charset: 'utf8mb4_bin',
    connectTimeout: options.connectTimeoutMs,
    connectionLimit: options.poolSize,
    queueLimit: options.poolSize * 8,
    enableKeepAlive: true,
    // Values still go through the driver's escaping (query(sql, values)); only the batching is new.
    multipleStatements: true,
    ...hostConnectOptions(hosts),
  });
}

/**
 * Creates the database named in the URL when it does not exist yet, so a fresh machine starts.
 * With several hosts, on the first that answers, which then becomes the host in use.
 */
export async function ensureDatabaseExists(
  target: string | DatabaseHostSelector,
  connectTimeoutMs: number,
): Promise<void> {
  const hosts = typeof target === 'string' ? new DatabaseHostSelector(DatabaseEndpoints.parse(target)) : target;
  let firstError: unknown;
  for (const index of hosts.failoverOrder()) {
    try {
      await createDatabaseOn(hosts.endpoints.urlOf(index), connectTimeoutMs);
      hosts.moveTo(index);
      return;
    } catch (error) {
      firstError ??= error;
      if ((error as Error).message.startsWith('database name')) break;
    }
  }
  throw firstError;
}

async function createDatabaseOn(url: string, connectTimeoutMs: number): Promise<void> {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(database)) {
    throw new Error(`database name "${database}" must be letters, digits and underscores`);
  }
  parsed.pathname = '/';
  const connection = await createConnection({ uri: parsed.toString(), connectTimeout: connectTimeoutMs });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await connection.end();
  }
}

const UNREACHABLE_AT_START: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ER_ACCESS_DENIED_ERROR: 'access denied for this user and password',
};

/** A start that cannot reach MySQL names the setting and where it pointed, never the password. */
function unreachableAtStart(hosts: DatabaseHostSelector, error: unknown): Error {
  const names = hosts.endpoints.hosts.map((_, index) => hosts.endpoints.nameOf(index)).join(', ');
  const code = (error as { code?: unknown }).code;
  const reason = (typeof code === 'string' ? UNREACHABLE_AT_START[code] : undefined) ?? (error as Error).message;
  return new Error(`DATABASE_URL points at ${names}: ${reason}`, { cause: error });
}

export interface PoolOccupancy {
  readonly size: number;
  readonly inUse: number;
  readonly waiting: number;
}

/** The unit of work's pool occupancy, from mysql2's pool under TypeORM's driver; zeros before it exists. */
export function poolStats(dataSource: DataSource, size: number): PoolOccupancy {
  const pool = (dataSource.driver as unknown as { pool?: MysqlPoolInternals }).pool;
  return pool === undefined ? { size, inUse: 0, waiting: 0 } : mysqlPoolStats(pool, size);
}

/** A mysql2 pool's occupancy: the unit of work's under TypeORM, or the single-card path's own. */
export function mysqlPoolStats(pool: object, size: number): PoolOccupancy {
  const internals = pool as MysqlPoolInternals;
  return {
    size,
    inUse: internals._allConnections.length - internals._freeConnections.length,
    waiting: internals._connectionQueue.length,
  };
}

/** mysql2 keeps these queues on its Pool; no public accessor exists (mysql2 lib/base/pool.js). */
interface MysqlPoolInternals {
  readonly _allConnections: { readonly length: number };
  readonly _freeConnections: { readonly length: number };
  readonly _connectionQueue: { readonly length: number };
}

/** Connects, creates the database if needed and applies pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  const hosts = hostSelectorOf(options);
  try {
    await ensureDatabaseExists(hosts, options.connectTimeoutMs);
  } catch (error) {
    throw unreachableAtStart(hosts, error);
  }
  const dataSource = createDataSource({ ...options, hosts });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}
