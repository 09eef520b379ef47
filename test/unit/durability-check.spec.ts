import { durabilityRisks } from '../../src/persistence/durability-check';

/** MariaDB 10.11's answer to SHOW GLOBAL VARIABLES for the settings the check reads, durable. */
const DURABLE: Readonly<Record<string, string>> = {
  innodb_flush_log_at_trx_commit: '1',
  log_bin: 'ON',
  sync_binlog: '1',
  innodb_doublewrite: 'ON',
  innodb_flush_method: 'O_DIRECT',
};

const risksOf = (changes: Readonly<Record<string, string>> = {}) =>
  durabilityRisks(new Map(Object.entries({ ...DURABLE, ...changes }))).map((risk) => `${risk.setting}=${risk.value}`);

describe('The database durability check', () => {
  it('finds nothing to warn of on a server that flushes at commit, syncs its binlog and writes pages twice', () => {
    expect(risksOf()).toEqual([]);
  });

  it.each(['0', '2'])('names innodb_flush_log_at_trx_commit=%s', (value) => {
    expect(risksOf({ innodb_flush_log_at_trx_commit: value })).toEqual([`innodb_flush_log_at_trx_commit=${value}`]);
  });

  it('names sync_binlog other than 1 while the binary log is on, and ignores it while the log is off', () => {
    expect(risksOf({ sync_binlog: '0' })).toEqual(['sync_binlog=0']);
    expect(risksOf({ sync_binlog: '100' })).toEqual(['sync_binlog=100']);
    expect(risksOf({ sync_binlog: '0', log_bin: 'OFF' })).toEqual([]);
  });

  it('names a doublewrite buffer turned off or detecting only, and a flush method that does not sync', () => {
    expect(risksOf({ innodb_doublewrite: 'OFF', innodb_flush_method: 'nosync' })).toEqual([
      'innodb_doublewrite=OFF',
      'innodb_flush_method=nosync',
    ]);
    expect(risksOf({ innodb_doublewrite: 'DETECT_ONLY' })).toEqual(['innodb_doublewrite=DETECT_ONLY']);
    expect(risksOf({ innodb_doublewrite: 'DETECT_AND_RECOVER', innodb_flush_method: 'fsync' })).toEqual([]);
  });

  it('judges no setting the server does not report', () => {
    expect(durabilityRisks(new Map([['innodb_flush_log_at_trx_commit', '1']]))).toEqual([]);
  });
});
