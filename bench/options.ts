import { isScenario, SCENARIOS, type Scenario } from './scenarios';

export const CEILINGS = ['transport', 'database', 'textbook'] as const;
export const EVENT_SETTINGS = ['off', 'on'] as const;
export type EventSetting = (typeof EVENT_SETTINGS)[number];
export type Ceiling = (typeof CEILINGS)[number];

export interface BenchOptions {
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly concurrency: readonly number[];
  readonly scenarios: readonly Scenario[];
  /** Server process counts to compare; more than one runs the server under a Node cluster. */
  readonly processes: readonly number[];
  readonly loaders: number;
  /** HTTP/2 connections per load generator. */
  readonly channels: number;
  readonly cards: number;
  /** The service's DB_POOL_SIZE. */
  readonly serverPoolSize: number;
  /** Event settings to compare: each runs its own service, the cells side by side. */
  readonly events: readonly EventSetting[];
  /** The broker of the events-on service. */
  readonly amqpUrl: string;
  readonly ceilings: readonly Ceiling[];
  readonly profile: boolean;
  readonly profileConcurrency: number;
  /** Also measure distinct-card Redeem with the request log and metrics off and on, in this run. */
  readonly observabilityOverhead: boolean;
  /** Also measure distinct-card Redeem on a private three-node Galera cluster, one node and two. */
  readonly galera: boolean;
  /** Rounds over all cells; each cell reports its median round by throughput. */
  readonly repeat: number;
  /** Load generators on the last core, the servers under test on the others (taskset). */
  readonly pin: boolean;
  readonly mysqlUrl: string;
  readonly database: string;
  readonly keepDatabase: boolean;
  readonly updateDocs: boolean;
  readonly outDir: string;
}

export const USAGE = `Usage: npm run bench -- [options]

Drives the gift card service with closed-loop gRPC load and measures it against three ceilings taken
in the same run: a no-op gRPC server (transport), the service's own SQL sent straight through
mysql2 (database), and a textbook redemption sent straight through mysql2 (textbook). Times are in
seconds.

  --quick                    preset: --warmup 1 --duration 3 --concurrency 16,64
  --warmup <s>               warm-up before each measured window (default 2)
  --duration <s>             measured window per cell (default 8)
  --concurrency <list>       virtual users per cell, e.g. 1,16,64 (default)
  --scenarios <list>         ${SCENARIOS.join(',')} (default: all)
  --processes <list>         server processes on one port, e.g. 1,2 (default 1); >1 uses node:cluster
  --loaders <n>              load generator processes (default 2)
  --channels <n>             gRPC connections per load generator (default 2)
  --cards <n>                distinct cards seeded (default 10000)
  --server-pool <n>          the service's DB_POOL_SIZE (default 16, the service's default)
  --events <list>            off,on: runs the service without and with events (EVENTS_AMQP_URL) in the
                             same run, cell after cell (default off)
  --amqp-url <url>           broker for --events on (default $BENCH_AMQP_URL or
                             amqp://guest:guest@127.0.0.1:5672); a queue of the run's own is bound to
                             its exchange and both are deleted afterwards
  --ceilings <list>          transport,database,textbook (default all; "none" skips them); textbook
                             runs for redeem-distinct, redeem-hot and issue-virtual-card only
  --repeat <n>               run every cell n times, interleaved, and report each cell's median
                             round by throughput (default 1); steadies figures on a machine others
                             are using
  --pin                      taskset: load generators on the last CPU, the servers under test on the
                             others (MySQL is shared and left where it is); needs 2 or more CPUs
  --observability-overhead   also run distinct-card Redeem with the request log and metrics off, then
                             on (interleaved --repeat times, at the largest --concurrency), and report
                             the throughput lost to them (target: at most 5%)
  --galera                   also start a private three-node Galera cluster (galera-4, mariadb-backup)
                             and run Redeem (redeem-distinct and redeem-hot, those of --scenarios)
                             through one service process on one node, then split over two processes on
                             two nodes (at each --concurrency, --repeat rounds); the table sits beside
                             the single server's cells of this run
  --no-profile               skip the CPU profile of the server under the distinct-card scenario
  --profile-concurrency <n>  virtual users while profiling (default: the largest --concurrency)
  --mysql-url <url>          MySQL server (default $BENCH_MYSQL_URL or mysql://root@127.0.0.1:3306)
  --database <name>          bench database, dropped and recreated (default giftcard_bench)
  --keep-database            leave the bench database in place afterwards
  --update-docs              write this run's tables into docs/benchmarks.md
  --out <dir>                where results and the profile go (default .bench)
  --help
`;

const DEFAULTS: BenchOptions = {
  warmupSeconds: 2,
  durationSeconds: 8,
  concurrency: [1, 16, 64],
  scenarios: SCENARIOS,
  processes: [1],
  loaders: 2,
  channels: 2,
  cards: 10_000,
  serverPoolSize: 16,
  events: ['off'],
  amqpUrl: process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  ceilings: CEILINGS,
  profile: true,
  profileConcurrency: 0,
  observabilityOverhead: false,
  galera: false,
  repeat: 1,
  pin: false,
  mysqlUrl: process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306',
  database: 'giftcard_bench',
  keepDatabase: false,
  updateDocs: false,
  outDir: '.bench',
};

const QUICK: Partial<BenchOptions> = { warmupSeconds: 1, durationSeconds: 3, concurrency: [16, 64] };

/** Sanity bounds: enough to catch a typo, loose enough for any real run. */
const MAX_SECONDS = 3_600;
const MAX_CONCURRENCY = 1_024;

export class UsageError extends Error {}

function number(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function integers(flag: string, raw: string, min: number, max: number): number[] {
  const values = raw.split(',').map((part) => number(flag, part.trim(), min, max));
  if (values.some((value) => !Number.isInteger(value))) throw new UsageError(`${flag} takes whole numbers`);
  return [...new Set(values)];
}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const options: { -readonly [K in keyof BenchOptions]: BenchOptions[K] } = { ...DEFAULTS };
  const args = argv.flatMap((arg) => (arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg]));
  let profileConcurrency: number | null = null;
  if (args.includes('--quick')) Object.assign(options, QUICK);
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--quick':
        break;
      case '--warmup':
        options.warmupSeconds = number(flag, value(), 0, MAX_SECONDS);
        break;
      case '--duration':
        options.durationSeconds = number(flag, value(), 0.5, MAX_SECONDS);
        break;
      case '--concurrency':
        options.concurrency = integers(flag, value(), 1, MAX_CONCURRENCY);
        break;
      case '--scenarios': {
        const names = value().split(',');
        const unknown = names.filter((name) => !isScenario(name));
        if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(', ')}`);
        options.scenarios = SCENARIOS.filter((scenario) => names.includes(scenario));
        break;
      }
      case '--processes':
        options.processes = integers(flag, value(), 1, 64);
        break;
      case '--loaders':
        options.loaders = integers(flag, value(), 1, 64)[0]!;
        break;
      case '--channels':
        options.channels = integers(flag, value(), 1, 64)[0]!;
        break;
      case '--cards':
        options.cards = integers(flag, value(), 1, 1_000_000)[0]!;
        break;
      case '--server-pool':
        options.serverPoolSize = integers(flag, value(), 1, 512)[0]!;
        break;
      case '--events': {
        const names = value().split(',');
        const unknown = names.filter((name) => !(EVENT_SETTINGS as readonly string[]).includes(name));
        if (unknown.length > 0) throw new UsageError(`unknown event setting ${unknown.join(', ')}`);
        options.events = EVENT_SETTINGS.filter((setting) => names.includes(setting));
        break;
      }
      case '--amqp-url':
        options.amqpUrl = value();
        break;
      case '--ceilings': {
        const raw = value();
        const names = raw === 'none' ? [] : raw.split(',');
        const unknown = names.filter((name) => !(CEILINGS as readonly string[]).includes(name));
        if (unknown.length > 0) throw new UsageError(`unknown ceiling ${unknown.join(', ')}`);
        options.ceilings = CEILINGS.filter((ceiling) => names.includes(ceiling));
        break;
      }
      case '--repeat':
        options.repeat = integers(flag, value(), 1, 100)[0]!;
        break;
      case '--pin':
        options.pin = true;
        break;
      case '--galera':
        options.galera = true;
        break;
      case '--observability-overhead':
        options.observabilityOverhead = true;
        break;
      case '--no-profile':
        options.profile = false;
        break;
      case '--profile-concurrency':
        profileConcurrency = integers(flag, value(), 1, MAX_CONCURRENCY)[0]!;
        break;
      case '--mysql-url':
        options.mysqlUrl = value().replace(/\/+$/, '');
        break;
      case '--database':
        options.database = value();
        break;
      case '--keep-database':
        options.keepDatabase = true;
        break;
      case '--update-docs':
        options.updateDocs = true;
        break;
      case '--out':
        options.outDir = value();
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  options.profileConcurrency = profileConcurrency ?? Math.max(...options.concurrency);
  return options;
}
