import type { Clock } from '../../src/application/ports';

/**
 * A clock a test moves by hand: the service reads time only through its Clock, so a test can put
 * it at a hold's expire time exactly instead of waiting for it and asserting on timing.
 */
export class TestClock implements Clock {
  private ms: number;

  constructor(start: Date = new Date()) {
    this.ms = start.getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(to: Date): void {
    this.ms = to.getTime();
  }

  advance(byMs: number): void {
    this.ms += byMs;
  }
}
