import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallCaller } from './call-caller';

/**
 * What travels with one call through every await: who it is from (call-caller.ts) and when its
 * work must give up (call-deadline.ts). One storage for both, set once per call: while any
 * AsyncLocalStorage is in use, every promise the process creates pays a hook per storage, and a
 * call creates dozens.
 */
export interface CallContext {
  readonly caller: CallCaller | null;
  /** Epoch ms by which the work gives up; null without a deadline. */
  readonly workByMs: number | null;
}

const calls = new AsyncLocalStorage<CallContext>();

/** Runs the work as the given call: its caller and its deadline together, in one step. */
export function withCall<T>(context: CallContext, work: () => T): T {
  return calls.run(context, work);
}

/** The current call's context; undefined outside a call. */
export function currentCall(): CallContext | undefined {
  return calls.getStore();
}
