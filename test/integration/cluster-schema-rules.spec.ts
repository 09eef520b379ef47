import type { Connection, RowDataPacket } from 'mysql2/promise';
import { rawConnection, testDatabaseName } from '../support/test-database';

/**
 * What Galera needs of the schema (docs/scaling.md): it replicates rows by primary key (a table
 * without one is applied on the other nodes by scanning it, or not at all for a DELETE), and only
 * InnoDB tables are replicated. Read from the test database, which the migrations made.
 */
let db: Connection;

beforeAll(async () => {
  db = await rawConnection();
});

afterAll(async () => {
  await db.end();
});

interface TableRow extends RowDataPacket {
  readonly name: string;
  readonly engine: string;
  readonly hasPrimaryKey: number | string;
}

async function tables(): Promise<TableRow[]> {
  const [rows] = await db.query<TableRow[]>(
    `SELECT t.TABLE_NAME AS name, t.ENGINE AS engine,
            EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c
                     WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
                       AND c.CONSTRAINT_TYPE = 'PRIMARY KEY') AS hasPrimaryKey
       FROM information_schema.TABLES t
      WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE'`,
    [testDatabaseName()],
  );
  return rows;
}

describe('The schema the migrations create, as a Galera cluster replicates it', () => {
  it('gives every table a primary key', async () => {
    const all = await tables();
    expect(all.length).toBeGreaterThan(5);
    expect(all.filter((table) => Number(table.hasPrimaryKey) !== 1).map((table) => table.name)).toEqual([]);
  });

  it('keeps every table in InnoDB, the only engine Galera replicates', async () => {
    expect((await tables()).filter((table) => table.engine !== 'InnoDB').map((table) => table.name)).toEqual([]);
  });
});
