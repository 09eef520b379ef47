import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../src/persistence/data-source';
import { setTestDatabaseName, TEST_SERVER_URL } from './test-database';

/** One throwaway database per test run, migrated the way production is; teardown drops it. */
export default async function globalSetup(): Promise<void> {
  const name = `giftcard_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  setTestDatabaseName(name);
  const dataSource = await openDatabase({ url: `${TEST_SERVER_URL}/${name}`, poolSize: 2, connectTimeoutMs: 5_000 });
  await dataSource.destroy();
}
