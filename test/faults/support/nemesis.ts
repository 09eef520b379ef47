import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { MariaDbServer } from './mariadb-server';
import type { Rng } from './random';
import type { ServiceUnderTest } from './service-under-test';

/** Every fault the nemesis can inject; each is one entry of INJECTORS below. */
export const FAULTS = ['kill', 'sigterm', 'connection-kill', 'outage', 'database-crash', 'clock-skew'] as const;
export type Fault = (typeof FAULTS)[number];

/** How many of each fault a run injects at least; the run lasts until all of them are done. */
export type FaultPlan = Readonly<Record<Fault, number>>;

/** What one kind of fault did over a run. */
export interface FaultCount {
  injected: number;
  /** Times health was seen NOT_SERVING while the fault lasted (outages, database crashes). */
  seenNotServing: number;
  /** Time the database was cut off or down, in all. */
  downMs: number;
  /** Longest time from the end of the fault (network back, database restarted) to SERVING. */
  slowestRecoveryMs: number;
}

export interface FaultTally {
  readonly byFault: Record<Fault, FaultCount>;
  /** Database connections killed by the connection-kill rounds. */
  connectionKills: number;
  readonly sigterms: { code: number | null; signal: string | null; ms: number }[];
  /** The largest clock offset the server ran at, either way. */
  largestSkewMs: number;
  /** Faults the service did not come back from by itself. */
  readonly failures: string[];
}

/** What the faults act on. */
export interface FaultTarget {
  readonly sut: ServiceUnderTest;
  /** The run's own database server, which database-crash kills; null when the run uses the shared one. */
  readonly database: MariaDbServer | null;
  /** The database the service uses, whose connections connection-kill picks from. */
  readonly databaseName: string;
  /** A fresh administrative session: a crash ends the previous ones. */
  connectAdmin(): Promise<Connection>;
}

export interface NemesisOptions {
  /** Pause before each fault. */
  readonly gapMs: readonly [number, number];
  /** How long the database network stays cut. */
  readonly outageMs: readonly [number, number];
  /**
   * How long a crashed database stays down before it restarts, as a supervisor's restart delay
   * would keep it: long enough for the service's health probe to see it gone.
   */
  readonly databaseDownMs: readonly [number, number];
  /** How far the server's clock jumps, either way, from the machine's. */
  readonly clockSkewMs: readonly [number, number];
}

/** Liveness bound for the service to serve again after a fault, on a loaded machine. */
const RECOVERY_TIMEOUT_MS = 60_000;
const MAX_CONNECTIONS_KILLED_AT_ONCE = 3;
const HEALTH_POLL_MS = 200;
/** Share of clock-skew faults that set the clock right again. */
const CLOCK_RESET_SHARE = 0.25;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What an injector works with. */
interface FaultRun {
  readonly target: FaultTarget;
  readonly rng: Rng;
  readonly options: NemesisOptions;
  readonly tally: FaultTally;
  readonly count: FaultCount;
  /** Runs a recovery step; a failure is recorded and ends the run. */
  recover(what: string, action: () => Promise<void>): Promise<void>;
  /** Polls health for `ms`; whether it was seen NOT_SERVING meanwhile. */
  watchHealth(ms: number): Promise<boolean>;
  /** Polls health until `work` settles; whether it was seen NOT_SERVING meanwhile. */
  watchHealthWhile(work: Promise<void>): Promise<boolean>;
  /** Waits for SERVING and records how long it took from `since`. */
  servingAgain(what: string, since: number): Promise<void>;
}

/** One entry per fault: inject it, wait until the service serves again, count what happened. */
const INJECTORS: Readonly<Record<Fault, (run: FaultRun) => Promise<void>>> = {
  /** A crash of the server process: SIGKILL, then a new process. */
  kill: async ({ target, recover }) => {
    await target.sut.stopWith('SIGKILL');
    await recover('restart after SIGKILL', () => target.sut.restart());
  },

  /** A deploy: SIGTERM under load, drain, exit, then a new process. */
  sigterm: async ({ target, tally, recover }) => {
    tally.sigterms.push(await target.sut.stopWith('SIGTERM'));
    await recover('restart after SIGTERM', () => target.sut.restart());
  },

  /** 1-3 of the service's database connections killed from an admin session. */
  'connection-kill': async ({ target, rng, tally }) => {
    const admin = await target.connectAdmin();
    try {
      const [rows] = await admin.query<RowDataPacket[]>(
        'SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [target.databaseName],
      );
      const victims = rng.shuffle(rows.map((r) => Number(r.ID))).slice(0, rng.int(1, MAX_CONNECTIONS_KILLED_AT_ONCE));
      for (const id of victims) {
        try {
          await admin.query(`KILL CONNECTION ${id}`);
          tally.connectionKills++;
        } catch {
          // It ended on its own meanwhile.
        }
      }
    } finally {
      await admin.end();
    }
  },

  /** The database network cut for a few seconds, alternately refused and blackholed. */
  outage: async ({ target, rng, options, count, watchHealth, servingAgain }) => {
    const kind = count.injected % 2 === 0 ? 'refuse' : 'blackhole';
    const started = Date.now();
    target.sut.database.cut(kind);
    const seen = await watchHealth(rng.int(...options.outageMs));
    target.sut.database.restore();
    count.downMs += Date.now() - started;
    if (seen) count.seenNotServing++;
    await servingAgain(`serving again after a ${kind} outage`, Date.now());
  },

  /**
   * A crash of the database server itself: SIGKILL of mariadbd, down for a moment, restarted on
   * the same data (InnoDB crash recovery). Acknowledged commits must all be there afterwards.
   */
  'database-crash': async ({ target, rng, options, count, recover, watchHealth, watchHealthWhile, servingAgain }) => {
    const database = target.database;
    if (database === null) throw new Error('database-crash needs the run to have its own database server');
    const started = Date.now();
    await database.kill();
    const seenWhileDown = await watchHealth(rng.int(...options.databaseDownMs));
    // The database is still gone while it restarts (crash recovery): a probe that answered late
    // on a loaded machine may only show NOT_SERVING then.
    const seenWhileRestarting = await watchHealthWhile(
      recover('database restart after SIGKILL', () => database.start()),
    );
    count.downMs += Date.now() - started;
    if (seenWhileDown || seenWhileRestarting) count.seenNotServing++;
    await servingAgain('serving again after a database crash', Date.now());
  },

  /** The server's wall clock jumps, forward or back, or is set right again; it stays so across restarts. */
  'clock-skew': async ({ target, rng, options, tally, recover }) => {
    const offsetMs = rng.chance(CLOCK_RESET_SHARE) ? 0 : (rng.chance(0.5) ? 1 : -1) * rng.int(...options.clockSkewMs);
    await recover(`clock offset ${offsetMs} ms`, () => target.sut.skewClock(offsetMs));
    tally.largestSkewMs = Math.max(tally.largestSkewMs, Math.abs(offsetMs));
  },
};

/**
 * Injects faults one after another at random moments while the workload runs. Faults do not
 * overlap, so each recovery is seen on its own. Which fault comes when, and how long each lasts,
 * follow from the seed alone.
 */
export class Nemesis {
  readonly tally: FaultTally = {
    byFault: Object.fromEntries(
      FAULTS.map((fault) => [fault, { injected: 0, seenNotServing: 0, downMs: 0, slowestRecoveryMs: 0 }]),
    ) as Record<Fault, FaultCount>,
    connectionKills: 0,
    sigterms: [],
    largestSkewMs: 0,
    failures: [],
  };

  constructor(
    private readonly target: FaultTarget,
    private readonly rng: Rng,
    private readonly options: NemesisOptions,
  ) {}

  /**
   * Runs for `durationMs`, and past it until every fault of the plan has happened; in between,
   * more of the plan's faults in the plan's proportions.
   */
  async run(plan: FaultPlan, durationMs: number): Promise<FaultTally> {
    const until = Date.now() + durationMs;
    const planned = FAULTS.filter((fault) => plan[fault] > 0);
    const bag = this.rng.shuffle(planned.flatMap((fault) => Array<Fault>(plan[fault]).fill(fault)));
    const mix = planned.map((fault) => ({ fault, weight: plan[fault] }));
    for (let sequence = 0; bag.length > 0 || (mix.length > 0 && Date.now() < until); sequence++) {
      await sleep(this.rng.int(...this.options.gapMs));
      const fault = bag.shift() ?? this.rng.weighted(mix).fault;
      const count = this.tally.byFault[fault];
      // Each fault draws from a generator of its own: how many connections one round found to kill
      // must not shift the schedule of the faults after it.
      await INJECTORS[fault](this.runOf(count, this.rng.fork(`fault-${sequence}`)));
      count.injected++;
    }
    return this.tally;
  }

  private runOf(count: FaultCount, rng: Rng): FaultRun {
    const recover = async (what: string, action: () => Promise<void>): Promise<void> => {
      try {
        await action();
      } catch (error) {
        this.tally.failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      }
    };
    return {
      target: this.target,
      rng,
      options: this.options,
      tally: this.tally,
      count,
      recover,
      watchHealth: async (ms) => {
        const started = Date.now();
        let seenNotServing = false;
        while (Date.now() - started < ms) {
          if ((await this.target.sut.health.check()) === 'NOT_SERVING') seenNotServing = true;
          await sleep(HEALTH_POLL_MS);
        }
        return seenNotServing;
      },
      watchHealthWhile: async (work) => {
        const progress = { settled: false };
        const done = work.finally(() => {
          progress.settled = true;
        });
        let seenNotServing = false;
        while (!progress.settled) {
          if ((await this.target.sut.health.check()) === 'NOT_SERVING') seenNotServing = true;
          await Promise.race([sleep(HEALTH_POLL_MS), done]);
        }
        await done;
        return seenNotServing;
      },
      servingAgain: async (what, since) => {
        await recover(what, () => this.target.sut.health.waitFor('SERVING', RECOVERY_TIMEOUT_MS));
        count.slowestRecoveryMs = Math.max(count.slowestRecoveryMs, Date.now() - since);
      },
    };
  }
}
