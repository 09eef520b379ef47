import { overloaded } from '../domain/errors';
import type { AdmissionSettings } from '../config';

interface Waiter {
  readonly admit: () => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Admission control in front of the database pool (issue 10): at most `maxInFlight` calls run at
 * once, the next `maxQueued` wait their turn in arrival order for at most `maxQueueWaitMs` (or
 * until their own deadline), and the rest are refused at once. A refusal is OVERLOADED
 * (UNAVAILABLE with a retry delay), never a pool error surfacing as INTERNAL; nothing was applied.
 */
export class AdmissionControl {
  private inFlight = 0;
  /** Insertion-ordered, so the first entry is the longest waiting. */
  private readonly waiting = new Set<Waiter>();

  constructor(private readonly settings: AdmissionSettings) {}

  /**
   * Runs `work` once admitted; `giveUpAtMs` is when the call stops waiting for its turn. A call
   * admitted at once starts its work at once: no await in between, one promise fewer per call.
   */
  run<T>(work: () => Promise<T>, giveUpAtMs: number | null): Promise<T> {
    if (this.admitsNow()) {
      this.inFlight++;
      return this.runAdmitted(work);
    }
    return this.queue(giveUpAtMs).then(() => this.runAdmitted(work));
  }

  private admitsNow(): boolean {
    return this.inFlight < this.settings.maxInFlight && this.waiting.size === 0;
  }

  private runAdmitted<T>(work: () => Promise<T>): Promise<T> {
    let running: Promise<T>;
    try {
      running = work();
    } catch (error) {
      this.release();
      throw error;
    }
    return running.then(
      (value) => {
        this.release();
        return value;
      },
      (error: unknown) => {
        this.release();
        throw error;
      },
    );
  }

  /** Waits for a place handed over by release(), which counts it in flight for the waiter. */
  private queue(giveUpAtMs: number | null): Promise<void> {
    if (this.waiting.size >= this.settings.maxQueued) return Promise.reject(overloaded());
    const waitMs = Math.min(this.settings.maxQueueWaitMs, giveUpAtMs === null ? Infinity : giveUpAtMs - Date.now());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(
          () => {
            this.waiting.delete(waiter);
            reject(overloaded());
          },
          Math.max(0, waitMs),
        ),
      };
      this.waiting.add(waiter);
    });
  }

  /** A finished call hands its place straight to the longest waiting one. */
  private release(): void {
    const [next] = this.waiting;
    if (next === undefined) {
      this.inFlight--;
      return;
    }
    this.waiting.delete(next);
    clearTimeout(next.timer);
    next.admit();
  }
}
