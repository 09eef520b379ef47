import { randomInt } from 'node:crypto';
import { FAULTS, type Fault, type FaultPlan } from './nemesis';

/**
 * How the run's own database server is set up: `durable` as docs/reliability.md asks of
 * production, `relaxed` with the settings that let a crash lose acknowledged commits
 * (FAULT_DB_DURABILITY=relaxed), to show that the checker catches exactly that.
 */
export type DatabaseDurability = 'durable' | 'relaxed';

/**
 * How long and how hard the fault workload runs. `npm test` runs the bounded CI profile on every
 * run; `npm run test:faults` sets FAULT_PROFILE=long. FAULT_DURATION_S, FAULT_CLIENTS, FAULT_SEED,
 * FAULT_PLAN and FAULT_DB_DURABILITY override either.
 */
export interface FaultSettings {
  readonly durationMs: number;
  readonly clients: number;
  readonly seed: number;
  readonly callDeadlineMs: number;
  readonly cards: number;
  readonly plan: FaultPlan;
  readonly databaseDurability: DatabaseDurability;
  /** Where to write the run's figures as JSON, when set (FAULT_REPORT). */
  readonly reportPath: string | null;
}

const PROFILES = {
  ci: { durationS: 30, clients: 8 },
  long: { durationS: 300, clients: 16 },
} as const;

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/**
 * At least five server crashes a run (issue 5) and one database crash (issue 16), every other
 * fault at least once or twice; a longer run scales each with its duration (an hour: 360 server
 * kills, 60 database crashes).
 */
function defaultPlan(durationS: number): FaultPlan {
  return {
    kill: Math.max(5, Math.round(durationS / 10)),
    sigterm: Math.max(1, Math.round(durationS / 60)),
    'connection-kill': Math.max(3, Math.round(durationS / 8)),
    outage: Math.max(2, Math.round(durationS / 20)),
    'database-crash': Math.max(1, Math.round(durationS / 60)),
    'clock-skew': Math.max(2, Math.round(durationS / 30)),
  };
}

/** FAULT_PLAN="database-crash=5,kill=0": counts replacing the profile's; 0 leaves a fault out. */
function planOverrides(raw: string | undefined): Partial<Record<Fault, number>> {
  if (raw === undefined || raw.trim() === '') return {};
  return Object.fromEntries(
    raw.split(',').map((item) => {
      const [name = '', count = ''] = item.trim().split('=');
      if (!(FAULTS as readonly string[]).includes(name) || !/^\d+$/.test(count)) {
        throw new Error(`FAULT_PLAN entries are fault=count with a fault among ${FAULTS.join(', ')}, got "${item}"`);
      }
      return [name, Number(count)];
    }),
  );
}

function databaseDurability(raw: string | undefined): DatabaseDurability {
  if (raw === undefined || raw === '' || raw === 'durable') return 'durable';
  if (raw === 'relaxed') return 'relaxed';
  throw new Error(`FAULT_DB_DURABILITY must be durable or relaxed, got "${raw}"`);
}

export function faultSettings(): FaultSettings {
  const profile = process.env.FAULT_PROFILE === 'long' ? PROFILES.long : PROFILES.ci;
  const durationS = positiveInteger('FAULT_DURATION_S', profile.durationS);
  return {
    durationMs: durationS * 1_000,
    clients: positiveInteger('FAULT_CLIENTS', profile.clients),
    seed: positiveInteger('FAULT_SEED', randomInt(1, 2 ** 31)),
    callDeadlineMs: positiveInteger('FAULT_CALL_DEADLINE_MS', 3_000),
    // Fewer cards than clients: calls collide on rows, which is what the row locks are for.
    cards: 6,
    plan: { ...defaultPlan(durationS), ...planOverrides(process.env.FAULT_PLAN) },
    databaseDurability: databaseDurability(process.env.FAULT_DB_DURABILITY),
    reportPath: process.env.FAULT_REPORT ?? null,
  };
}
