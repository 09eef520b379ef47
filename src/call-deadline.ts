import { currentCall, withCall } from './call-context';

/**
 * The caller's deadline, carried through every await of one call without threading a parameter
 * through each layer: the transport sets it, the unit of work reads it. It lives outside the layers
 * so neither has to import the other.
 */
export interface CallBudget {
  /** Epoch ms by which the work gives up: no new retry, no more waiting on a row lock. */
  readonly workByMs: number;
  /** Epoch ms by which the transport answers, whatever the work is still waiting for. */
  readonly replyByMs: number;
}

/**
 * Time kept back from the caller's deadline so our answer reaches it before its own timer fires:
 * a fifth of the budget, at least enough for a loaded event loop, at most a second.
 */
const MIN_REPLY_MARGIN_MS = 50;
const MAX_REPLY_MARGIN_MS = 1_000;
const REPLY_MARGIN_SHARE = 0.2;

/** The budget of a call received at `nowMs` with the given deadline; null when it has none. */
export function callBudget(deadlineMs: number, nowMs: number): CallBudget | null {
  if (!Number.isFinite(deadlineMs)) return null;
  const marginMs = Math.min(
    MAX_REPLY_MARGIN_MS,
    Math.max(MIN_REPLY_MARGIN_MS, (deadlineMs - nowMs) * REPLY_MARGIN_SHARE),
  );
  return { workByMs: deadlineMs - marginMs, replyByMs: deadlineMs - marginMs / 2 };
}

/** Runs the work with `workByMs` as the time by which everything it awaits must give up. */
export function withWorkDeadline<T>(workByMs: number | null, work: () => T): T {
  return workByMs === null ? work() : withCall({ caller: currentCall()?.caller ?? null, workByMs }, work);
}

/** Epoch ms by which the current call's work must give up; null outside a call or without a deadline. */
export function currentWorkDeadline(): number | null {
  return currentCall()?.workByMs ?? null;
}
