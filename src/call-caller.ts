import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whose idempotency keys the current call's key is among. The transport sets it once it knows the
 * caller; the idempotency record reads it. Like the call's deadline (call-deadline.ts) it travels
 * with the call's awaits, so neither layer imports the other.
 */
const keyScopes = new AsyncLocalStorage<string>();

/** The scope of calls when no callers file is configured, and of every key written before there was one. */
export const ANONYMOUS_KEY_SCOPE = '';

export function withKeyScope<T>(scope: string, work: () => T): T {
  return keyScopes.run(scope, work);
}

/** The current call's key scope; outside a call (tools, tests of the operations), the anonymous one. */
export function currentKeyScope(): string {
  return keyScopes.getStore() ?? ANONYMOUS_KEY_SCOPE;
}
