import { currentCall } from './call-context';

/**
 * Who the current call is from: the calling service's name (for events and audit rows) and whose
 * idempotency keys its key is among. The transport sets it once it knows the caller; the
 * operations read it. Like the call's deadline (call-deadline.ts) it travels with the call's
 * awaits, so neither layer imports the other.
 */
export interface CallCaller {
  readonly name: string;
  readonly keyScope: string;
}

/** The scope of calls when no callers file is configured, and of every key written before there was one. */
export const ANONYMOUS_KEY_SCOPE = '';

/** Work done by the service itself, outside any call (the hold sweeper): no caller to name. */
export const NO_CALLER_NAME = '';

/** The current call's key scope; outside a call (tools, tests of the operations), the anonymous one. */
export function currentKeyScope(): string {
  return currentCall()?.caller?.keyScope ?? ANONYMOUS_KEY_SCOPE;
}

/** The authenticated caller's name ('anonymous' without a callers file); empty outside a call. */
export function currentCallerName(): string {
  return currentCall()?.caller?.name ?? NO_CALLER_NAME;
}
