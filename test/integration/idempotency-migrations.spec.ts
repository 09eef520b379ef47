import type { RowDataPacket } from 'mysql2/promise';
import { DataSource, type MigrationInterface } from 'typeorm';
import { createDataSource, migrations, openDatabase } from '../../src/persistence/data-source';
import { TypeOrmIdempotencyRepository } from '../../src/persistence/idempotency.repository';
import { InitialSchema1764000000000 } from '../../src/persistence/migrations/1764000000000-initial-schema';
import { IdempotencyKeyPerCaller1764200000000 } from '../../src/persistence/migrations/1764200000000-idempotency-key-per-caller';
import { rawConnection, testDatabaseName, TEST_SERVER_URL } from '../support/test-database';

type MigrationClass = new () => MigrationInterface;

const FINGERPRINT = Buffer.alloc(32, 7);
const SEALED = Buffer.from('sealed reply');
const OPERATION_ID = '6f1c2a4e-9b7d-4e21-8c3a-0d5e7f9a1b2c';
const KEY = 'key-written-before-the-upgrade';

/** A throwaway database of this run, dropped after the test. */
const databases: string[] = [];
function databaseNamed(suffix: string): string {
  const name = `${testDatabaseName()}_${suffix}`;
  databases.push(name);
  return name;
}

afterAll(async () => {
  const connection = await rawConnection(null);
  try {
    for (const name of databases) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await connection.end();
  }
});

const options = (database: string) => ({ url: `${TEST_SERVER_URL}/${database}`, poolSize: 2, connectTimeoutMs: 5_000 });

/** A database as an older release left it: only the migrations that release shipped have run. */
async function migratedBy(database: string, shipped: MigrationClass[]): Promise<DataSource> {
  const full = createDataSource(options(database));
  const connection = await rawConnection(null);
  await connection.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await connection.end();
  const older = new DataSource({ ...full.options, migrations: shipped });
  await older.initialize();
  await older.runMigrations({ transaction: 'each' });
  return older;
}

async function tableOf(dataSource: DataSource): Promise<string> {
  const [row] = await dataSource.query<{ 'Create Table': string }[]>('SHOW CREATE TABLE idempotency_record');
  return row?.['Create Table'] ?? '';
}

async function executedMigrations(dataSource: DataSource): Promise<string[]> {
  const rows = await dataSource.query<RowDataPacket[]>('SELECT name FROM schema_migration ORDER BY id');
  return rows.map((row) => row.name as string);
}

/** Every migration but this branch's: a database as main left it before per-caller keys. */
const BEFORE_CALLER_KEYS = migrations.filter((migration) => migration !== IdempotencyKeyPerCaller1764200000000);

/** A key stored before the upgrade, in the record format of its day (format 1, no card secrets apart). */
const STORED = {
  format: 1,
  fingerprint: FINGERPRINT,
  reply: { sealedReply: SEALED, sealedSecrets: null, secretsExpireAt: null },
  // Written before reversals: it names no RPC, so it cannot be reversed, and nothing reversed it.
  rpc: null,
  sealedReversal: null,
};

describe('Migrations of idempotency_record (per-caller keys, 1764200000000, among the others)', () => {
  let fresh: string;

  beforeAll(async () => {
    const dataSource = await openDatabase(options(databaseNamed('fresh')));
    fresh = await tableOf(dataSource);
    await dataSource.destroy();
  });

  it('keys a fresh database by caller and key, the anonymous caller by default, with the operation id column', () => {
    expect(fresh).toMatch(/PRIMARY KEY \(`caller`,`idempotency_key`\)/);
    expect(fresh).toContain('`operation_id` char(36)');
    // A replica of the previous release, still serving during an upgrade, names no caller.
    expect(fresh).toMatch(/`caller` varchar\(64\)[^,]* NOT NULL DEFAULT '',/);
  });

  it('upgrades a database that ran every later migration: the older pending one runs, keys and operation ids kept', async () => {
    const database = databaseNamed('later_first');
    const older = await migratedBy(database, BEFORE_CALLER_KEYS);
    await older.query(
      `INSERT INTO idempotency_record (idempotency_key, fingerprint, operation_id, sealed_response, created_at, expires_at)
         VALUES (?, ?, ?, ?, NOW(3), NOW(3) + INTERVAL 1 DAY)`,
      [KEY, FINGERPRINT, OPERATION_ID, SEALED],
    );
    await older.destroy();

    const upgraded = await openDatabase(options(database));
    try {
      expect(await executedMigrations(upgraded)).toEqual(
        [...BEFORE_CALLER_KEYS, IdempotencyKeyPerCaller1764200000000].map((migration) => migration.name),
      );
      expect(await tableOf(upgraded)).toBe(fresh);
      const [row] = await upgraded.query<RowDataPacket[]>(
        'SELECT caller, operation_id FROM idempotency_record WHERE idempotency_key = ?',
        [KEY],
      );
      expect(row).toEqual({ caller: '', operation_id: OPERATION_ID });
      // The anonymous caller (no callers file) still replays the key it sent before the upgrade.
      const repository = new TypeOrmIdempotencyRepository(upgraded.manager);
      expect(await repository.find({ scope: '', key: KEY })).toEqual(STORED);
      expect(await repository.find({ scope: 'checkout', key: KEY })).toBeNull();
    } finally {
      await upgraded.destroy();
    }
  });

  it('upgrades a database that keyed by caller first: the later migrations run after it, keys kept', async () => {
    const database = databaseNamed('caller_first');
    const older = await migratedBy(database, [InitialSchema1764000000000, IdempotencyKeyPerCaller1764200000000]);
    await older.query(
      `INSERT INTO idempotency_record (caller, idempotency_key, fingerprint, sealed_response, created_at, expires_at)
         VALUES ('checkout', ?, ?, ?, NOW(3), NOW(3) + INTERVAL 1 DAY)`,
      [KEY, FINGERPRINT, SEALED],
    );
    await older.destroy();

    const upgraded = await openDatabase(options(database));
    try {
      expect(await executedMigrations(upgraded)).toEqual([
        InitialSchema1764000000000.name,
        IdempotencyKeyPerCaller1764200000000.name,
        ...BEFORE_CALLER_KEYS.filter((migration) => migration !== InitialSchema1764000000000).map(
          (migration) => migration.name,
        ),
      ]);
      expect(await tableOf(upgraded)).toBe(fresh);
      const repository = new TypeOrmIdempotencyRepository(upgraded.manager);
      expect(await repository.find({ scope: 'checkout', key: KEY })).toEqual(STORED);
      expect(await repository.find({ scope: '', key: KEY })).toBeNull();
    } finally {
      await upgraded.destroy();
    }
  });
});
