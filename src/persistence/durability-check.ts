import type { Logger } from '../observability/logger';
import type { ServerVariables } from './server-variables';

/** A server setting under which the database can lose, in a crash, a commit it acknowledged. */
export interface DurabilityRisk {
  readonly setting: string;
  readonly value: string;
  readonly wanted: string;
  /** What a crash takes while the setting stays like this. */
  readonly loses: string;
}

interface Rule {
  readonly setting: string;
  readonly wanted: string;
  /** Whether the value keeps acknowledged commits, given everything else the server reported. */
  readonly safe: (value: string, variables: ReadonlyMap<string, string>) => boolean;
  readonly loses: string;
}

/**
 * What the service needs from MySQL/MariaDB for "acknowledged means stored" (docs/reliability.md).
 * Names and values are the same in MariaDB 10.6+ and MySQL 8; a variable the server does not
 * have is not judged.
 */
const RULES: readonly Rule[] = [
  {
    setting: 'innodb_flush_log_at_trx_commit',
    wanted: '1',
    safe: (value) => value === '1',
    loses:
      'the last second or so of acknowledged commits (with 0 when the database process crashes, ' +
      'with 2 when the machine does)',
  },
  {
    setting: 'sync_binlog',
    wanted: '1 while the binary log is on',
    safe: (value, variables) => variables.get('log_bin') !== 'ON' || value === '1',
    loses:
      'acknowledged commits missing from the unsynced end of the binary log, which recovery after a ' +
      'machine crash rolls back (and replicas then disagree with the primary)',
  },
  {
    setting: 'innodb_doublewrite',
    wanted: 'ON',
    safe: (value) => ['ON', '1', 'FAST', 'DETECT_AND_RECOVER'].includes(value.toUpperCase()),
    loses: 'a whole table, to a page half-written when the machine crashes or loses power (it cannot be repaired)',
  },
  {
    setting: 'innodb_flush_method',
    wanted: 'a method that syncs (O_DIRECT, fsync)',
    safe: (value) => !['NOSYNC', 'LITTLESYNC'].includes(value.toUpperCase()),
    loses: 'data file pages the redo log no longer covers, when the machine crashes',
  },
];

/** The settings of `variables` (as SHOW GLOBAL VARIABLES names them) that put acknowledged commits at risk. */
export function durabilityRisks(variables: ReadonlyMap<string, string>): DurabilityRisk[] {
  return RULES.flatMap((rule) => {
    const value = variables.get(rule.setting);
    if (value === undefined || rule.safe(value, variables)) return [];
    return [{ setting: rule.setting, value, wanted: rule.wanted, loses: rule.loses }];
  });
}

/** The settings durabilityRisks judges, to be read from the server. */
export const DURABILITY_VARIABLES: readonly string[] = ['log_bin', ...RULES.map((rule) => rule.setting)];

/**
 * Warns at start, naming each setting, when a crash could lose what the service has already told
 * a caller is done. A warning, not a refusal: a developer's laptop or a CI database may trade
 * durability for speed on purpose.
 */
export function warnOfDurabilityRisks(variables: ServerVariables, log: Logger): void {
  if (variables instanceof Error) {
    log.warn('DURABILITY: could not read the database settings; durability unchecked', { error: String(variables) });
    return;
  }
  for (const risk of durabilityRisks(variables)) {
    log.warn(`DURABILITY: ${risk.setting} is ${risk.value}, want ${risk.wanted}; a crash can lose ${risk.loses}`, {
      setting: risk.setting,
      value: risk.value,
    });
  }
}
