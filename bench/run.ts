import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { HmacCardSecrets } from '../src/security/card-secrets';
import {
  checkLedger,
  databaseFacts,
  dropDatabase,
  recreateDatabase,
  seedCards,
  type DatabaseFacts,
  type LedgerCheck,
} from './bench-database';
import { BenchEventBroker, outboxUnsent } from './event-broker';
import { LoaderPool } from './loader-pool';
import { measureCell, type Cell, type CellResult, type MeasureContext } from './measure';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './options';
import { measureGalera } from './galera';
import { measureObservabilityOverhead } from './observability-overhead';
import { findDatabasePid } from './process-stats';
import { profileMarkdown, readProfile, summarizeProfile, type ProfileSummary } from './profile-summary';
import {
  cellLine,
  ceilingTable,
  eventsComparison,
  processComparison,
  ResultIndex,
  serviceTable,
  verdicts,
  verdictTable,
} from './report';
import { NOOP_SCRIPT, SERVICE_SCRIPT, startServerProcess, type RunningServerProcess } from './server-process';
import { checkSqlDrift } from './sql-drift-check';
import { pin, pinningPlan, type Pinning } from './pinning';
import { checkLedgerAfterTextbook, checkTextbookWorkload } from './textbook-check';
import { TEXTBOOK_SCENARIOS } from './textbook-workload';

const SERVICE_READY = 'gift card service listening';
const NOOP_READY = 'transport ceiling listening';
const DOCS_PATH = join(__dirname, '..', '..', 'docs', 'benchmarks.md');
const DOCS_START = '<!-- bench:last-run:start -->';
const DOCS_END = '<!-- bench:last-run:end -->';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface RunRecord {
  readonly options: BenchOptions;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: Readonly<Record<string, string>>;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly database: DatabaseFacts;
  readonly results: readonly CellResult[];
  readonly serverPeakRssMb: Readonly<Record<string, readonly number[]>>;
  readonly profile: ProfileSummary | null;
  /** The --observability-overhead comparison, as a markdown table; null when not asked for. */
  readonly observabilityOverhead: string | null;
  /** The --galera comparison, as a markdown table; null when not asked for. */
  readonly galera: string | null;
  readonly ledger: LedgerCheck;
}

function machineFacts(): Record<string, string> {
  return {
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    kernel: `${process.platform} ${release()}`,
    node: process.version,
  };
}

/** A fresh set of secrets per run, handed to the server and used to hash the seeded cards. */
function benchSecrets(): { env: Record<string, string>; secrets: HmacCardSecrets } {
  const [numberIndexKey, passcodeKey, sealingKey] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  return {
    env: {
      CARD_NUMBER_INDEX_KEY: numberIndexKey.toString('hex'),
      PASSCODE_HASH_KEY: passcodeKey.toString('hex'),
      RESPONSE_SEALING_KEY: sealingKey.toString('hex'),
    },
    secrets: new HmacCardSecrets({ numberIndexKey, passcodeKey, sealingKey }),
  };
}

/** One service under load: its process count and whether it publishes events. */
interface BenchService {
  readonly processes: number;
  readonly events: boolean;
  readonly server: RunningServerProcess;
}

async function runCells(
  options: BenchOptions,
  context: MeasureContext,
  databaseUrl: string,
  services: readonly BenchService[],
  noops: ReadonlyMap<number, RunningServerProcess>,
): Promise<CellResult[]> {
  const results: CellResult[] = [];
  const record = (result: CellResult): void => {
    results.push(result);
    say(cellLine(result));
  };
  // Interleaved: each service cell runs right after its ceilings (transport, database, textbook),
  // on the same table sizes and as close in time as possible, which matters most on a machine
  // others are using.
  for (let round = 1; round <= options.repeat; round++) {
    if (options.repeat > 1) say(`round ${round} of ${options.repeat}`);
    for (const scenario of options.scenarios) {
      for (const concurrency of options.concurrency) {
        for (const [processes, noop] of noops) {
          const cell: Cell = { phase: 'transport', scenario, concurrency, processes, events: false };
          record(await measureCell(context, cell, { kind: 'grpc', address: noop.address }, noop.pids));
          noop.assertAlive();
        }
        if (options.ceilings.includes('database')) {
          const cell: Cell = { phase: 'database', scenario, concurrency, processes: 0, events: false };
          record(await measureCell(context, cell, { kind: 'sql', databaseUrl }, []));
        }
        if (options.ceilings.includes('textbook') && TEXTBOOK_SCENARIOS.includes(scenario)) {
          const cell: Cell = { phase: 'textbook', scenario, concurrency, processes: 0, events: false };
          record(await measureCell(context, cell, { kind: 'textbook', databaseUrl }, []));
          // The textbook's SQL is ours, not the service's: prove after every cell that it kept the books.
          await checkLedgerAfterTextbook(options.mysqlUrl, options.database, `${scenario} c=${concurrency}`);
        }
        // Events off and on run back to back, so the comparison sees the same machine and tables.
        for (const { processes, events, server } of services) {
          const cell: Cell = { phase: 'service', scenario, concurrency, processes, events };
          const result = await measureCell(context, cell, { kind: 'grpc', address: server.address }, server.pids);
          record(
            events ? { ...result, outboxUnsentAfter: await outboxUnsent(options.mysqlUrl, options.database) } : result,
          );
          server.assertAlive();
        }
      }
    }
  }
  return medianRounds(results);
}

/**
 * For each cell, the round with the median throughput, whole, so its figures belong together
 * (with an even count, the lower of the two middle rounds); every round's throughput is kept.
 */
function medianRounds(results: readonly CellResult[]): CellResult[] {
  const rounds = new Map<string, CellResult[]>();
  for (const result of results) {
    const key = `${result.phase}|${result.scenario}|${result.concurrency}|${result.processes}|${result.events}`;
    rounds.set(key, [...(rounds.get(key) ?? []), result]);
  }
  return [...rounds.values()].map((list) => {
    const sorted = [...list].sort((a, b) => a.rps - b.rps);
    return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, roundRps: list.map((r) => r.rps) };
  });
}

/** Runs the distinct-card scenario once more against a server started with --cpu-prof. */
async function profileServer(
  options: BenchOptions,
  context: MeasureContext,
  serviceEnv: Record<string, string>,
  outDir: string,
  pinning: Pinning | null,
): Promise<ProfileSummary> {
  const profileDir = join(outDir, 'profile');
  rmSync(profileDir, { recursive: true, force: true });
  const name = 'server-redeem-distinct.cpuprofile';
  const server = await startServerProcess({
    script: SERVICE_SCRIPT,
    readyMessage: SERVICE_READY,
    processes: 1,
    env: serviceEnv,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}`],
  });
  if (pinning !== null) pin(server.pids, pinning.servers);
  const cell: Cell = {
    phase: 'service',
    scenario: 'redeem-distinct',
    concurrency: options.profileConcurrency,
    processes: 1,
    events: false,
  };
  const result = await measureCell(context, cell, { kind: 'grpc', address: server.address }, server.pids);
  say(`profiled: ${cellLine(result)}`);
  await server.stop();
  const exitedAt = Date.now();
  const profile = readProfile(join(profileDir, name));
  // The profile ends at the server's exit; count back from there to the measured window only.
  const window = {
    fromUs: profile.endTime - (exitedAt - result.windowStartedAt) * 1000,
    toUs: profile.endTime - (exitedAt - result.windowEndedAt) * 1000,
  };
  const summary = summarizeProfile(profile, window);
  writeFileSync(join(outDir, 'profile-summary.md'), `${profileMarkdown(summary)}\n`);
  return summary;
}

function renderReport(record: RunRecord): string {
  const index = new ResultIndex(record.results);
  const { options } = record;
  const variables = Object.entries(record.database.variables)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
  const comparison = processComparison(index);
  const withEvents = eventsComparison(index);
  const lines = [
    `Run of ${record.startedAt} to ${record.finishedAt}.`,
    '',
    `- Machine: ${Object.values(record.machine).join('; ')}.`,
    `- MySQL: ${record.database.version}; ${variables}.`,
    `- Load average before / after: ${record.loadBefore.map((l) => l.toFixed(2)).join(' ')} / ${record.loadAfter.map((l) => l.toFixed(2)).join(' ')}.`,
    `- Options: warm-up ${options.warmupSeconds} s, window ${options.durationSeconds} s per cell` +
      `${options.repeat > 1 ? `, median of ${options.repeat} interleaved rounds` : ''}; ` +
      `concurrency ${options.concurrency.join(', ')}; server processes ${options.processes.join(', ')}; ` +
      `${options.loaders} load generator processes x ${options.channels} connections; ${options.cards} cards; ` +
      `service DB_POOL_SIZE ${options.serverPoolSize}; events ${options.events.join(', ')}` +
      `${options.pin ? `; pinned with taskset: ${pinningText(pinningPlan())}` : ''}.`,
    `- Ledger after the run: ${record.ledger.cards} cards, ${record.ledger.entries} entries, ` +
      `${record.ledger.drifted} cards whose balance differs from their entries.`,
    '',
    '#### Targets',
    '',
    verdictTable(verdicts(index)),
    '',
    '#### Service',
    '',
    serviceTable(index),
    '',
    '#### Ceilings',
    '',
    ceilingTable(index),
    ...(comparison === null ? [] : ['', '#### Server processes', '', comparison]),
    ...(withEvents === null ? [] : ['', '#### Events off and on', '', withEvents]),
    ...(record.observabilityOverhead === null
      ? []
      : ['', '#### Request log and metrics: overhead', '', record.observabilityOverhead]),
    ...(record.galera === null
      ? []
      : ['', '#### Galera cluster: Redeem on one node and spread over two', '', record.galera]),
    ...(record.profile === null
      ? []
      : [
          '',
          `#### CPU profile: the server under distinct-card Redeem at c=${options.profileConcurrency}`,
          '',
          profileMarkdown(record.profile),
        ]),
  ];
  return lines.join('\n');
}

function pinningText(pinning: Pinning): string {
  return `load generators on CPU ${pinning.loaders}, servers under test on CPU ${pinning.servers}, MySQL unpinned`;
}

function updateDocs(report: string): void {
  if (!existsSync(DOCS_PATH)) throw new Error(`${DOCS_PATH} is missing`);
  const docs = readFileSync(DOCS_PATH, 'utf8');
  const start = docs.indexOf(DOCS_START);
  const end = docs.indexOf(DOCS_END);
  if (start < 0 || end < start) throw new Error(`${DOCS_PATH} lacks the ${DOCS_START} ... ${DOCS_END} markers`);
  writeFileSync(DOCS_PATH, `${docs.slice(0, start + DOCS_START.length)}\n${report}\n${docs.slice(end)}`);
}

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    say(USAGE);
    return;
  }
  const options = parsed;
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const startedAt = new Date();
  const loadBefore = loadavg();
  const database = await databaseFacts(options.mysqlUrl);
  say(
    `MySQL ${database.version} at ${options.mysqlUrl}; recreating ${options.database} and seeding ${options.cards} cards`,
  );
  const databaseUrl = `${options.mysqlUrl}/${options.database}`;
  await recreateDatabase(options.mysqlUrl, options.database);
  const { env: secretEnv, secrets } = benchSecrets();
  const cardsPath = join(outDir, 'cards.json');
  const cards = await seedCards(options.mysqlUrl, options.database, secrets, options.cards, cardsPath);
  const serviceEnv: Record<string, string> = {
    ...secretEnv,
    DATABASE_URL: databaseUrl,
    // Request log on, metrics off: the main cells compare with earlier runs; --observability-overhead
    // measures what the log and the metrics cost.
    LOG_LEVEL: 'info',
    METRICS_PORT: '0',
    DB_POOL_SIZE: String(options.serverPoolSize),
    SHUTDOWN_GRACE_MS: '5000',
  };
  await checkSqlDrift(databaseUrl, serviceEnv, cards);
  say('SQL ceiling matches the statements the service sends');
  if (options.ceilings.includes('textbook')) {
    await checkTextbookWorkload(options.mysqlUrl, options.database, cards.hot);
    say('textbook ceiling sends one statement per round trip and keeps balance = ledger');
  }

  const pinning = options.pin ? pinningPlan() : null;
  const loaders = await LoaderPool.start(options.loaders);
  if (pinning !== null) {
    pin(loaders.pids, pinning.loaders);
    say(`pinned: ${pinningText(pinning)}`);
  }
  const context: MeasureContext = {
    loaders,
    cardsPath,
    channels: options.channels,
    warmupMs: options.warmupSeconds * 1000,
    durationMs: options.durationSeconds * 1000,
    databasePid: findDatabasePid(),
    runTag: randomBytes(3).toString('hex'),
  };
  const services: BenchService[] = [];
  const noops = new Map<number, RunningServerProcess>();
  const eventBroker = options.events.includes('on')
    ? await BenchEventBroker.open(options.amqpUrl, context.runTag)
    : null;
  const serverPeakRssMb: Record<string, readonly number[]> = {};
  let results: CellResult[];
  let profile: ProfileSummary | null = null;
  let observabilityOverhead: string | null = null;
  let galera: string | null = null;
  try {
    for (const processes of options.processes) {
      if (options.ceilings.includes('transport')) {
        noops.set(
          processes,
          await startServerProcess({ script: NOOP_SCRIPT, readyMessage: NOOP_READY, processes, env: {} }),
        );
        if (pinning !== null) pin(noops.get(processes)!.pids, pinning.servers);
      }
      for (const setting of options.events) {
        const events = setting === 'on';
        const env = events && eventBroker !== null ? { ...serviceEnv, ...eventBroker.serviceEnv() } : serviceEnv;
        const server = await startServerProcess({
          script: SERVICE_SCRIPT,
          readyMessage: SERVICE_READY,
          processes,
          env,
        });
        if (pinning !== null) pin(server.pids, pinning.servers);
        services.push({ processes, events, server });
      }
    }
    results = await runCells(options, context, databaseUrl, services, noops);
    for (const { processes, events, server } of services.splice(0)) {
      serverPeakRssMb[`service x${processes}${events ? ' with events' : ''}`] = (await server.stop()).peakRssMb;
    }
    if (options.galera) {
      galera = await measureGalera(
        {
          context,
          serviceEnv,
          secrets,
          cards: options.cards,
          database: options.database,
          concurrency: options.concurrency,
          scenarios: options.scenarios,
          repeat: options.repeat,
          outDir,
          say,
        },
        new ResultIndex(results),
      );
    }
    if (options.profile) profile = await profileServer(options, context, serviceEnv, outDir, pinning);
    if (options.observabilityOverhead) {
      observabilityOverhead = await measureObservabilityOverhead(
        context,
        serviceEnv,
        Math.max(...options.concurrency),
        options.repeat,
        say,
      );
    }
  } finally {
    await Promise.all([...services.map((service) => service.server), ...noops.values()].map((server) => server.stop()));
    await loaders.close();
    await eventBroker?.close();
  }
  const ledger = await checkLedger(options.mysqlUrl, options.database);
  if (!options.keepDatabase) {
    await dropDatabase(options.mysqlUrl, options.database);
    // The seeded cards' passcodes are of no use once their database is gone.
    rmSync(cardsPath, { force: true });
  }

  const record: RunRecord = {
    options,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineFacts(),
    loadBefore,
    loadAfter: loadavg(),
    database,
    results,
    serverPeakRssMb,
    profile,
    observabilityOverhead,
    galera,
    ledger,
  };
  const report = renderReport(record);
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(record, null, 2));
  writeFileSync(join(outDir, 'last-run.md'), `${report}\n`);
  say(`\n${report}\n`);
  say(`Results in ${join(outDir, 'results.json')} and ${join(outDir, 'last-run.md')}.`);
  if (options.updateDocs) {
    updateDocs(report);
    say(`Updated ${DOCS_PATH}.`);
  }
  if (ledger.drifted > 0) throw new Error(`${ledger.drifted} cards' balances differ from their ledger entries`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
