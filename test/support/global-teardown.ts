import { rawConnection, testDatabaseName } from './test-database';

export default async function globalTeardown(): Promise<void> {
  const connection = await rawConnection(null);
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${testDatabaseName()}\``);
  } finally {
    await connection.end();
  }
}
