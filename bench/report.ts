import type { CellResult } from './measure';
import { SCENARIO_TITLES, type Scenario } from './scenarios';
import { TEXTBOOK_SCENARIOS } from './textbook-workload';

/** The issue's targets (benchmark figures, not test assertions). */
export const TARGETS = {
  distinctRedeemShareOfDatabase: 0.8,
  distinctRedeemConcurrency: 64,
  hotRedeemShareOfDatabase: 0.8,
  p99Concurrency: 16,
  p99Ms: 25,
  peakRssMb: 250,
} as const;

/** Errors that mean the database gave up on a lock: the hot-card target allows none. */
const LOCK_FAILURES = ['ABORTED', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'];

const fixed = (value: number | null, digits = 1): string => (value === null ? '–' : value.toFixed(digits));

/** CPU per answered call, in ms: steadier than throughput on a machine others are using. */
function cpuPerCall(percent: number | null, result: CellResult): string {
  if (percent === null || result.ok === 0) return '–';
  return (((percent / 100) * result.durationSeconds * 1000) / result.ok).toFixed(2);
}

function errorsText(errors: Readonly<Record<string, number>>): string {
  const parts = Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .map(([code, count]) => `${code} ${count}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

export class ResultIndex {
  constructor(readonly results: readonly CellResult[]) {}

  /** A cell's result; a service cell without events unless `events` says otherwise. */
  find(phase: CellResult['phase'], scenario: Scenario, concurrency: number, processes?: number, events = false) {
    return this.results.find(
      (r) =>
        r.phase === phase &&
        r.scenario === scenario &&
        r.concurrency === concurrency &&
        r.events === events &&
        (processes === undefined || r.processes === processes),
    );
  }

  /** A service cell's ceilings, in the report's column order (undefined: not measured). */
  ceilingsOf(cell: CellResult): readonly [CeilingName, CellResult | undefined][] {
    return [
      ['transport', this.find('transport', cell.scenario, cell.concurrency, cell.processes)],
      ['database', this.find('database', cell.scenario, cell.concurrency)],
      ['textbook', this.find('textbook', cell.scenario, cell.concurrency)],
    ];
  }
}

type CeilingName = 'transport' | 'database' | 'textbook';

/** A ceiling the run did not measure: "n/a" where it has no form for the scenario, else "–". */
function notMeasured(name: CeilingName, scenario: Scenario): string {
  return name === 'textbook' && !TEXTBOOK_SCENARIOS.includes(scenario) ? 'n/a' : '–';
}

function ceilingLabel(result: CellResult): string {
  switch (result.phase) {
    case 'transport':
      return `transport (no-op gRPC x${result.processes})`;
    case 'database':
      return 'database (the service SQL via mysql2)';
    case 'textbook':
      return 'textbook (textbook SQL via mysql2)';
    case 'service':
      return 'service';
  }
}

export function cellLine(result: CellResult): string {
  const where =
    result.phase === 'database' || result.phase === 'textbook'
      ? `${result.phase} ceiling`
      : `${result.phase} x${result.processes}${result.events ? ' +events' : ''}`;
  return (
    `${where.padEnd(18)} ${result.scenario.padEnd(18)} c=${String(result.concurrency).padEnd(4)}` +
    `${result.rps.toFixed(0).padStart(7)} req/s  p50 ${fixed(result.p50Ms, 2)}  p90 ${fixed(result.p90Ms, 2)}` +
    `  p99 ${fixed(result.p99Ms, 2)}  max ${fixed(result.maxMs, 1)} ms  errors ${errorsText(result.errors)}` +
    `  srv ${fixed(result.serverCpuPercent, 0)}% (${cpuPerCall(result.serverCpuPercent, result)} ms/call)` +
    ` ${fixed(result.serverPeakRssMb, 0)} MB` +
    `  db ${fixed(result.databaseCpuPercent, 0)}%  load ${fixed(result.loaderCpuPercent, 0)}%`
  );
}

export function serviceTable(index: ResultIndex): string {
  const rows = index.results
    .filter((r) => r.phase === 'service')
    .map((r) => {
      const ceilings = index.ceilingsOf(r);
      const figures = ceilings.map(([name, c]) => (c === undefined ? notMeasured(name, r.scenario) : c.rps.toFixed(0)));
      const ratios = ceilings.map(([name, c]) =>
        c === undefined ? notMeasured(name, r.scenario) : c.rps === 0 ? '–' : (r.rps / c.rps).toFixed(2),
      );
      return (
        `| ${SCENARIO_TITLES[r.scenario]} | ${r.concurrency} | ${r.processes} | ${r.events ? 'on' : 'off'} | ${r.rps.toFixed(0)} | ` +
        `${fixed(r.p50Ms, 2)} | ${fixed(r.p90Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${fixed(r.maxMs, 1)} | ` +
        `${errorsText(r.errors)} | ${fixed(r.serverCpuPercent, 0)} | ${cpuPerCall(r.serverCpuPercent, r)} | ` +
        `${fixed(r.serverPeakRssMb, 0)} | ${fixed(r.databaseCpuPercent, 0)} | ${cpuPerCall(r.databaseCpuPercent, r)} | ` +
        `${cpuPerCall(r.loaderCpuPercent, r)} | ${figures.join(' | ')} | ${ratios.join(' | ')} |`
      );
    });
  return [
    '| Scenario | Conc. | Procs | Events | req/s | p50 ms | p90 ms | p99 ms | max ms | Errors | Server CPU % | Server CPU ms/call | Server peak RSS MB | MySQL CPU % | MySQL CPU ms/call | Load generator CPU ms/call | Transport ceiling req/s | DB ceiling req/s | Textbook ceiling req/s | Ratio to transport | Ratio to DB | Ratio to textbook |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

export function ceilingTable(index: ResultIndex): string {
  const rows = index.results
    .filter((r) => r.phase !== 'service')
    .map(
      (r) =>
        `| ${ceilingLabel(r)} | ` +
        `${SCENARIO_TITLES[r.scenario]} | ${r.concurrency} | ${r.rps.toFixed(0)} | ${fixed(r.p50Ms, 2)} | ` +
        `${fixed(r.p90Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${fixed(r.maxMs, 1)} | ${errorsText(r.errors)} | ` +
        `${fixed(r.serverCpuPercent, 0)} | ${cpuPerCall(r.serverCpuPercent, r)} | ${fixed(r.databaseCpuPercent, 0)} | ` +
        `${cpuPerCall(r.databaseCpuPercent, r)} | ${fixed(r.loaderCpuPercent, 0)} | ${cpuPerCall(r.loaderCpuPercent, r)} |`,
    );
  return [
    '| Ceiling | Scenario | Conc. | req/s | p50 ms | p90 ms | p99 ms | max ms | Errors | Server CPU % | Server CPU ms/call | MySQL CPU % | MySQL CPU ms/call | Load generator CPU % | Load generator CPU ms/call |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

export interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
}

/** The targets, read on the service as it runs by default: events off. */
export function verdicts(index: ResultIndex): Verdict[] {
  const list: Verdict[] = [];
  const services = index.results.filter((r) => r.phase === 'service' && !r.events);
  for (const processes of [...new Set(services.map((r) => r.processes))]) {
    const suffix = processes > 1 ? ` (${processes} server processes)` : '';
    const distinct = index.find('service', 'redeem-distinct', TARGETS.distinctRedeemConcurrency, processes);
    const distinctCeiling = index.find('database', 'redeem-distinct', TARGETS.distinctRedeemConcurrency);
    list.push(
      distinct === undefined || distinctCeiling === undefined
        ? {
            target: `Distinct-card Redeem at c=64 ≥ 0.8 of the DB ceiling${suffix}`,
            measured: 'not measured',
            met: null,
          }
        : share(
            `Distinct-card Redeem at c=64 ≥ 0.8 of the DB ceiling${suffix}`,
            distinct.rps,
            distinctCeiling.rps,
            TARGETS.distinctRedeemShareOfDatabase,
          ),
    );
    for (const hot of services.filter((r) => r.scenario === 'redeem-hot' && r.processes === processes)) {
      const ceiling = index.find('database', 'redeem-hot', hot.concurrency);
      const lockFailures = LOCK_FAILURES.reduce((sum, code) => sum + (hot.errors[code] ?? 0), 0);
      const title = `Hot-card Redeem at c=${hot.concurrency} ≥ 0.8 of the raw-SQL hot ceiling, no lock failures${suffix}`;
      if (ceiling === undefined) {
        list.push({ target: title, measured: `${lockFailures} lock failures; no ceiling measured`, met: null });
        continue;
      }
      const verdict = share(title, hot.rps, ceiling.rps, TARGETS.hotRedeemShareOfDatabase);
      list.push({
        ...verdict,
        measured: `${verdict.measured}; ${lockFailures} lock failures`,
        met: verdict.met === true && lockFailures === 0,
      });
    }
    const p99 = index.find('service', 'redeem-distinct', TARGETS.p99Concurrency, processes);
    list.push({
      target: `p99 of distinct-card Redeem at c=16 ≤ 25 ms${suffix}`,
      measured: p99 === undefined ? 'not measured' : `${p99.p99Ms.toFixed(1)} ms`,
      met: p99 === undefined ? null : p99.p99Ms <= TARGETS.p99Ms,
    });
    const rss = services
      .filter((r) => r.processes === processes)
      .map((r) => (r.serverPeakRssMb ?? 0) / processes)
      .reduce((a, b) => Math.max(a, b), 0);
    list.push({
      target: `Server peak RSS ≤ 250 MB${processes > 1 ? ' per process' : ''}${suffix}`,
      measured: `${rss.toFixed(0)} MB`,
      met: rss === 0 ? null : rss <= TARGETS.peakRssMb,
    });
  }
  return list;
}

function share(target: string, rps: number, ceilingRps: number, needed: number): Verdict {
  const ratio = ceilingRps === 0 ? 0 : rps / ceilingRps;
  return {
    target,
    measured: `${rps.toFixed(0)} vs ${ceilingRps.toFixed(0)} req/s = ${ratio.toFixed(2)}`,
    met: ratio >= needed,
  };
}

export function verdictTable(list: readonly Verdict[]): string {
  const mark = (met: boolean | null): string => (met === null ? 'n/a' : met ? 'met' : '**missed**');
  return [
    '| Target | Measured | Verdict |',
    '| --- | --- | --- |',
    ...list.map((v) => `| ${v.target} | ${v.measured} | ${mark(v.met)} |`),
  ].join('\n');
}

/** Which process count served each scenario best, when more than one was run. */
export function processComparison(index: ResultIndex): string | null {
  const services = index.results.filter((r) => r.phase === 'service' && !r.events);
  const counts = [...new Set(services.map((r) => r.processes))].sort((a, b) => a - b);
  if (counts.length < 2) return null;
  const keys = [...new Set(services.map((r) => `${r.scenario}|${r.concurrency}`))];
  const rows = keys.map((key) => {
    const [scenario, concurrency] = key.split('|') as [Scenario, string];
    const figures = counts.map((p) => index.find('service', scenario, Number(concurrency), p)?.rps ?? 0);
    const best = counts[figures.indexOf(Math.max(...figures))]!;
    return `| ${SCENARIO_TITLES[scenario]} | ${concurrency} | ${figures.map((f) => f.toFixed(0)).join(' | ')} | ${best} |`;
  });
  return [
    `| Scenario | Conc. | ${counts.map((p) => `req/s with ${p}`).join(' | ')} | More throughput with |`,
    `| --- | ---: | ${counts.map(() => '---:').join(' | ')} | ---: |`,
    ...rows,
  ].join('\n');
}

/**
 * What publishing events costs: each cell measured with events off and on in the same run, side by
 * side, and how many events the relay had not yet had confirmed when the window closed.
 */
export function eventsComparison(index: ResultIndex): string | null {
  const withEvents = index.results.filter((r) => r.phase === 'service' && r.events);
  const rows = withEvents.flatMap((on) => {
    const off = index.find('service', on.scenario, on.concurrency, on.processes, false);
    if (off === undefined) return [];
    const change = off.rps === 0 ? '–' : `${(((on.rps - off.rps) / off.rps) * 100).toFixed(1)} %`;
    return [
      `| ${SCENARIO_TITLES[on.scenario]} | ${on.concurrency} | ${on.processes} | ${off.rps.toFixed(0)} | ` +
        `${on.rps.toFixed(0)} | ${change} | ${fixed(off.p99Ms, 2)} | ${fixed(on.p99Ms, 2)} | ` +
        `${cpuPerCall(off.serverCpuPercent, off)} | ${cpuPerCall(on.serverCpuPercent, on)} | ` +
        `${cpuPerCall(off.databaseCpuPercent, off)} | ${cpuPerCall(on.databaseCpuPercent, on)} | ` +
        `${on.outboxUnsentAfter ?? '–'} |`,
    ];
  });
  if (rows.length === 0) return null;
  return [
    '| Scenario | Conc. | Procs | req/s off | req/s on | Change | p99 ms off | p99 ms on | Server CPU ms/call off | Server CPU ms/call on | MySQL CPU ms/call off | MySQL CPU ms/call on | Outbox unsent after the window |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}
