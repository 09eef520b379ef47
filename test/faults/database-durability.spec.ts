import { MariaDbServer, RELAXED_SETTINGS } from './support/mariadb-server';
import { ServiceUnderTest } from './support/service-under-test';

/** Starting a private server and the service on a loaded machine. */
const SETUP_TIMEOUT_MS = 180_000;

let database: MariaDbServer;
let sut: ServiceUnderTest;

beforeAll(async () => {
  database = await MariaDbServer.create(RELAXED_SETTINGS);
  sut = await ServiceUnderTest.start({ databaseUrl: database.url('giftcard_relaxed') });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await sut.close();
  await database.destroy();
});

describe('The database durability check at start', () => {
  it('warns, naming each setting, when a crash of the database could lose acknowledged commits', () => {
    expect(sut.logs.durabilityWarnings()).toEqual([
      'innodb_flush_log_at_trx_commit',
      'sync_binlog',
      'innodb_doublewrite',
    ]);
    expect(sut.logs.text()).toContain(
      'DURABILITY: innodb_flush_log_at_trx_commit is 0, want 1; a crash can lose the last second or so of acknowledged commits',
    );
  });
});
