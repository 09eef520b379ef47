import { createConnection, type Connection } from 'mysql2/promise';

/** The MySQL server tests use; CI and the README start it on the default port. */
export const TEST_SERVER_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const DATABASE_ENV = 'GIFTCARD_TEST_DATABASE';

export function testDatabaseName(): string {
  const name = process.env[DATABASE_ENV];
  if (name === undefined) throw new Error(`${DATABASE_ENV} is unset: run the tests through jest's global setup`);
  return name;
}

export function setTestDatabaseName(name: string): void {
  process.env[DATABASE_ENV] = name;
}

export function testDatabaseUrl(): string {
  return `${TEST_SERVER_URL}/${testDatabaseName()}`;
}

/** A raw connection for reading rows behind the service's back, the way an auditor would. */
export function rawConnection(database: string | null = testDatabaseName()): Promise<Connection> {
  return createConnection({
    uri: database === null ? TEST_SERVER_URL : `${TEST_SERVER_URL}/${database}`,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
  });
}
