/** Something that waits in a line, with the bytes it adds to its batch's statements. */
export interface Queued {
  readonly bytes: number;
  /** Answers the item with an error its batch's runner could not turn into an answer. */
  fail(error: unknown): void;
}

export interface BatchBounds {
  /** Operations in one batch, at most; the first always goes alone. */
  readonly maxOperations: number;
  /** What a batch's statements may carry, well under MySQL's max_allowed_packet (16 MiB by default). */
  readonly maxBytes: number;
}

/**
 * One line per card (issue 12): an item for an idle line runs at once, by itself, so an idle
 * card waits for nothing; items arriving while the line's batch is in flight wait, and run
 * together, in arrival order, as the next batch, bounded in count and bytes. The runner answers
 * every item of its batch; one that throws fails the batch's items, never the line.
 */
export class CoalescingQueue<T extends Queued> {
  /** A line present here is busy; what it holds is waiting for the next batch. */
  private readonly lines = new Map<string, T[]>();

  constructor(
    private readonly runBatch: (batch: readonly T[]) => Promise<void>,
    private readonly bounds: BatchBounds,
  ) {}

  /** Items waiting for their line's next batch, in all lines. */
  waiting(): number {
    let count = 0;
    for (const waiting of this.lines.values()) count += waiting.length;
    return count;
  }

  add(line: string, item: T): void {
    const waiting = this.lines.get(line);
    if (waiting !== undefined) {
      waiting.push(item);
      return;
    }
    this.lines.set(line, []);
    void this.drain(line, [item]);
  }

  private async drain(line: string, first: readonly T[]): Promise<void> {
    let batch = first;
    for (;;) {
      try {
        await this.runBatch(batch);
      } catch (error) {
        for (const item of batch) item.fail(error);
      }
      const waiting = this.lines.get(line) ?? [];
      if (waiting.length === 0) {
        this.lines.delete(line);
        return;
      }
      batch = this.take(waiting);
    }
  }

  /** The longest prefix of the waiting items within the bounds, one item at least. */
  private take(waiting: T[]): T[] {
    let count = 0;
    let bytes = 0;
    for (const item of waiting) {
      if (count >= this.bounds.maxOperations) break;
      bytes += item.bytes;
      if (count > 0 && bytes > this.bounds.maxBytes) break;
      count++;
    }
    return waiting.splice(0, count);
  }
}
