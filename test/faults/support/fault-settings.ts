import { randomInt } from 'node:crypto';
import type { FaultPlan } from './nemesis';

/**
 * How long and how hard the fault workload runs. `npm test` runs the bounded CI profile on every
 * run; `npm run test:faults` sets FAULT_PROFILE=long. FAULT_DURATION_S, FAULT_CLIENTS and
 * FAULT_SEED override either.
 */
export interface FaultSettings {
  readonly durationMs: number;
  readonly clients: number;
  readonly seed: number;
  readonly callDeadlineMs: number;
  readonly cards: number;
  readonly plan: FaultPlan;
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
    // At least five crashes a run (issue 5), and every other fault at least once or twice.
    plan: {
      kill: Math.max(5, Math.round(durationS / 10)),
      sigterm: Math.max(1, Math.round(durationS / 60)),
      'connection-kill': Math.max(3, Math.round(durationS / 8)),
      outage: Math.max(2, Math.round(durationS / 20)),
    },
    reportPath: process.env.FAULT_REPORT ?? null,
  };
}
