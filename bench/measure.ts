import { LatencyHistogram } from './histogram';
import type { LoaderPool } from './loader-pool';
import { cpuSeconds, rssMb, sumOver } from './process-stats';
import type { LoadJob, Target } from './protocol';
import type { Scenario } from './scenarios';

export type Phase = 'service' | 'transport' | 'database' | 'textbook';

export interface Cell {
  readonly phase: Phase;
  readonly scenario: Scenario;
  readonly concurrency: number;
  /** Server processes; 0 for the database and textbook ceilings, which have no server. */
  readonly processes: number;
  /** The service published events (EVENTS_AMQP_URL set); false for the ceilings. */
  readonly events: boolean;
}

export interface CellResult extends Cell {
  /** The measured window, epoch ms. */
  readonly windowStartedAt: number;
  readonly windowEndedAt: number;
  readonly durationSeconds: number;
  readonly ok: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: Readonly<Record<string, number>>;
  /** CPU of all server processes in the window, as % of one core; null without a server. */
  readonly serverCpuPercent: number | null;
  /** Highest total resident memory of the server processes seen during the cell. */
  readonly serverPeakRssMb: number | null;
  readonly databaseCpuPercent: number | null;
  readonly loaderCpuPercent: number;
  /** Events-on service cells: outbox rows still unsent when the window closed. */
  readonly outboxUnsentAfter: number | null;
  /** With --repeat: every round's req/s, in run order; this result is the median round. */
  readonly roundRps?: readonly number[];
}

export interface MeasureContext {
  readonly loaders: LoaderPool;
  readonly cardsPath: string;
  readonly channels: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly databasePid: number | null;
  /** Unique per run, so idempotency keys never repeat across runs on a kept database. */
  readonly runTag: string;
}

/** Time for the jobs to reach the loaders before the clock starts. */
const DISPATCH_LEAD_MS = 100;
const RSS_SAMPLE_MS = 100;

let cellSequence = 0;

/** Splits `total` virtual users over at most `loaders` generators, none left empty. */
function shares(total: number, loaders: number): number[] {
  const used = Math.min(total, loaders);
  return Array.from({ length: used }, (_, i) => Math.floor(total / used) + (i < total % used ? 1 : 0));
}

/**
 * Runs one cell (one workload at one concurrency against one target) and measures it. With several
 * targets (service processes on different database nodes), the load generators take them in turn.
 */
export async function measureCell(
  context: MeasureContext,
  cell: Cell,
  target: Target | readonly Target[],
  serverPids: readonly number[],
): Promise<CellResult> {
  const targets: readonly Target[] = Array.isArray(target) ? target : [target as Target];
  const warmupEndsAt = Date.now() + DISPATCH_LEAD_MS + context.warmupMs;
  const endsAt = warmupEndsAt + context.durationMs;
  const keyPrefix = `b${context.runTag}c${++cellSequence}`;
  let firstUser = 0;
  const jobs: LoadJob[] = shares(cell.concurrency, context.loaders.size).map((users, index) => {
    const job: LoadJob = {
      target: targets[index % targets.length] as Target,
      scenario: cell.scenario,
      firstUser,
      users,
      totalUsers: cell.concurrency,
      channels: context.channels,
      warmupEndsAt,
      endsAt,
      cardsPath: context.cardsPath,
      keyPrefix,
    };
    firstUser += users;
    return job;
  });

  const cpuOf = (pids: readonly number[]): number | null => sumOver(pids, cpuSeconds);
  const databasePids = context.databasePid === null ? [] : [context.databasePid];
  let serverCpuStart: number | null = null;
  let databaseCpuStart: number | null = null;
  let serverCpuUsed: number | null = null;
  let databaseCpuUsed: number | null = null;
  let peakRss: number | null = null;
  const sampleRss = (): void => {
    const rss = sumOver(serverPids, rssMb);
    if (rss !== null && (peakRss === null || rss > peakRss)) peakRss = rss;
  };
  const rssTimer = setInterval(sampleRss, RSS_SAMPLE_MS);
  const startTimer = setTimeout(() => {
    serverCpuStart = cpuOf(serverPids);
    databaseCpuStart = cpuOf(databasePids);
  }, warmupEndsAt - Date.now());
  let endTimer: NodeJS.Timeout | undefined;
  // The loaders may answer before this process's own timer fires; the figures wait for it.
  const windowClosed = new Promise<void>((resolve) => {
    endTimer = setTimeout(() => {
      const serverNow = cpuOf(serverPids);
      const databaseNow = cpuOf(databasePids);
      if (serverNow !== null && serverCpuStart !== null) serverCpuUsed = serverNow - serverCpuStart;
      if (databaseNow !== null && databaseCpuStart !== null) databaseCpuUsed = databaseNow - databaseCpuStart;
      sampleRss();
      resolve();
    }, endsAt - Date.now());
  });

  let results;
  try {
    [results] = await Promise.all([context.loaders.run(jobs), windowClosed]);
  } finally {
    clearInterval(rssTimer);
    clearTimeout(startTimer);
    clearTimeout(endTimer);
  }

  const latency = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let ok = 0;
  let loaderCpu = 0;
  for (const result of results) {
    ok += result.ok;
    latency.add(result.latency);
    loaderCpu += result.loaderCpuSeconds;
    for (const [code, count] of Object.entries(result.errors)) errors[code] = (errors[code] ?? 0) + count;
  }
  const seconds = context.durationMs / 1000;
  const percentOfCore = (used: number | null): number | null => (used === null ? null : (100 * used) / seconds);
  return {
    ...cell,
    windowStartedAt: warmupEndsAt,
    windowEndedAt: endsAt,
    durationSeconds: seconds,
    ok,
    rps: ok / seconds,
    p50Ms: latency.percentile(0.5) / 1000,
    p90Ms: latency.percentile(0.9) / 1000,
    p99Ms: latency.percentile(0.99) / 1000,
    maxMs: latency.max / 1000,
    errors,
    serverCpuPercent: serverPids.length === 0 ? null : percentOfCore(serverCpuUsed),
    serverPeakRssMb: serverPids.length === 0 ? null : peakRss,
    databaseCpuPercent: percentOfCore(databaseCpuUsed),
    loaderCpuPercent: (100 * loaderCpu) / seconds,
    outboxUnsentAfter: null,
  };
}
