import type { DomainError } from '../domain/errors';

/**
 * The calls not yet answered, so shutdown can wait for them and, once its grace period is over,
 * answer those still running. A call enters with the function that answers it early and leaves
 * when it is answered; plain bookkeeping, no promise per call.
 */
export class CallsInFlight {
  private readonly abandons = new Set<(error: DomainError) => void>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.abandons.size;
  }

  /** Registers a call; returns what the call runs once it is answered. */
  enter(abandon: (error: DomainError) => void): () => void {
    this.abandons.add(abandon);
    return () => {
      this.abandons.delete(abandon);
      if (this.abandons.size === 0 && this.waiters.length > 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const resolve of waiters) resolve();
      }
    };
  }

  /** Resolves once every call registered so far, and any registered meanwhile, is answered. */
  idle(): Promise<void> {
    if (this.abandons.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }

  /** Answers every call still running with the error (each answers at most once). */
  abandonAll(error: DomainError): void {
    for (const abandon of [...this.abandons]) abandon(error);
  }
}
