import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { CardAccessEntity } from './entities/card-access.entity';
import { EventOutboxEntity } from './entities/event-outbox.entity';
import { GiftCardEntity } from './entities/gift-card.entity';
import { IdempotencyRecordEntity } from './entities/idempotency-record.entity';
import { LedgerEntryEntity } from './entities/ledger-entry.entity';
import { PasscodeFailureEntity } from './entities/passcode-failure.entity';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { UniqueFundingReference1764100000000 } from './migrations/1764100000000-unique-funding-reference';
import { PasscodeFailures1764100001000 } from './migrations/1764100001000-passcode-failures';
import { IdempotencyRecordFormat1764100002000 } from './migrations/1764100002000-idempotency-record-format';
import { EventOutbox1764500000000 } from './migrations/1764500000000-event-outbox';
import { IdempotencyOperationId1764600000000 } from './migrations/1764600000000-idempotency-operation-id';

export interface DatabaseOptions {
  readonly url: string;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
}

export const entities = [
  GiftCardEntity,
  LedgerEntryEntity,
  IdempotencyRecordEntity,
  CardAccessEntity,
  PasscodeFailureEntity,
  EventOutboxEntity,
];
export const migrations = [
  InitialSchema1764000000000,
  UniqueFundingReference1764100000000,
  PasscodeFailures1764100001000,
  IdempotencyRecordFormat1764100002000,
  EventOutbox1764500000000,
  IdempotencyOperationId1764600000000,
];

export function createDataSource(options: DatabaseOptions): DataSource {
  return new DataSource({
    type: 'mysql',
    url: options.url,
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
    },
  });
}

/** Creates the database named in the URL when it does not exist yet, so a fresh machine starts. */
export async function ensureDatabaseExists(url: string, connectTimeoutMs: number): Promise<void> {
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

/** Connects, creates the database if needed and applies pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  await ensureDatabaseExists(options.url, options.connectTimeoutMs);
  const dataSource = createDataSource(options);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}
