import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Rng } from './random';
import type { ServiceUnderTest } from './service-under-test';
import type { Outage } from './tcp-proxy';

export type Fault = 'kill' | 'sigterm' | 'connection-kill' | 'outage';

/** How many of each fault a run injects at least; the run lasts until all of them are done. */
export type FaultPlan = Readonly<Record<Fault, number>>;

export interface FaultTally {
  serverKills: number;
  sigterms: { code: number | null; signal: string | null; ms: number }[];
  connectionKills: number;
  outages: number;
  outageMs: number;
  /** Outages during which health was seen reporting NOT_SERVING (detection takes about 1-3 s). */
  outagesSeenNotServing: number;
  /** Longest time from the network's return to SERVING. */
  slowestRecoveryMs: number;
  /** Faults the service did not come back from by itself. */
  failures: string[];
}

/** Liveness bound for the service to serve again after a fault, on a loaded machine. */
const RECOVERY_TIMEOUT_MS = 60_000;
const MAX_CONNECTIONS_KILLED_AT_ONCE = 3;
const HEALTH_POLL_MS = 200;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Injects faults one after another at random moments while the workload runs: the server
 * SIGKILLed and restarted, SIGTERMed under load and restarted, database connections killed from
 * an admin session, the database cut off for a few seconds. Faults do not overlap, so each
 * recovery is seen on its own.
 */
export class Nemesis {
  readonly tally: FaultTally = {
    serverKills: 0,
    sigterms: [],
    connectionKills: 0,
    outages: 0,
    outageMs: 0,
    outagesSeenNotServing: 0,
    slowestRecoveryMs: 0,
    failures: [],
  };

  constructor(
    private readonly sut: ServiceUnderTest,
    private readonly admin: Connection,
    private readonly database: string,
    private readonly rng: Rng,
    private readonly options: {
      readonly gapMs: readonly [number, number];
      readonly outageMs: readonly [number, number];
    },
  ) {}

  /** Runs for `durationMs`, and past it until every fault of the plan has happened. */
  async run(plan: FaultPlan, durationMs: number): Promise<FaultTally> {
    const until = Date.now() + durationMs;
    const bag = this.rng.shuffle(
      (Object.entries(plan) as [Fault, number][]).flatMap(([fault, n]) => Array<Fault>(n).fill(fault)),
    );
    let outages = 0;
    while (bag.length > 0 || Date.now() < until) {
      await sleep(this.rng.int(...this.options.gapMs));
      const fault = bag.shift() ?? this.rng.pick<Fault>(['kill', 'connection-kill', 'connection-kill', 'outage']);
      if (fault === 'outage') await this.outage(outages++ % 2 === 0 ? 'refuse' : 'blackhole');
      else if (fault === 'kill') await this.kill();
      else if (fault === 'sigterm') await this.terminate();
      else await this.killConnections();
    }
    return this.tally;
  }

  private async kill(): Promise<void> {
    await this.sut.stopWith('SIGKILL');
    this.tally.serverKills++;
    await this.recover('restart after SIGKILL', () => this.sut.restart());
  }

  private async terminate(): Promise<void> {
    const exit = await this.sut.stopWith('SIGTERM');
    this.tally.sigterms.push(exit);
    await this.recover('restart after SIGTERM', () => this.sut.restart());
  }

  private async killConnections(): Promise<void> {
    const [rows] = await this.admin.query<RowDataPacket[]>(
      'SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
      [this.database],
    );
    const victims = this.rng
      .shuffle(rows.map((r) => String(r.ID)))
      .slice(0, this.rng.int(1, MAX_CONNECTIONS_KILLED_AT_ONCE));
    for (const id of victims) {
      try {
        await this.admin.query(`KILL CONNECTION ${Number(id)}`);
        this.tally.connectionKills++;
      } catch {
        // It ended on its own meanwhile.
      }
    }
  }

  private async outage(kind: Outage): Promise<void> {
    const lastsMs = this.rng.int(...this.options.outageMs);
    const started = Date.now();
    this.sut.database.cut(kind);
    let seenNotServing = false;
    while (Date.now() - started < lastsMs) {
      if ((await this.sut.health.check()) === 'NOT_SERVING') seenNotServing = true;
      await sleep(HEALTH_POLL_MS);
    }
    this.sut.database.restore();
    this.tally.outages++;
    this.tally.outageMs += Date.now() - started;
    if (seenNotServing) this.tally.outagesSeenNotServing++;
    const restored = Date.now();
    await this.recover(`serving again after a ${kind} outage`, () =>
      this.sut.health.waitFor('SERVING', RECOVERY_TIMEOUT_MS),
    );
    this.tally.slowestRecoveryMs = Math.max(this.tally.slowestRecoveryMs, Date.now() - restored);
  }

  private async recover(what: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.tally.failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }
}
