import { AsyncResource } from 'node:async_hooks';
import { currentWorkDeadline } from '../call-deadline';
import { runCardBatch, type CardLine, type CardOperation, type CardRequest } from './card-batch';
import { CoalescingQueue, type BatchBounds } from './card-queue';
import type { AppContext } from './ports';

/** What an operation adds to its batch's statements besides what it names: record, entry, event. */
const FIXED_OPERATION_BYTES = 2_048;
/**
 * Redemptions remembered by the line of their card, so that their refunds join it while the card
 * is busy; the oldest go first. A refund of a forgotten one runs by itself, as before coalescing.
 */
const REMEMBERED_REDEMPTIONS = 10_000;

/**
 * The lines of the cards this process is working on (issue 12's hot-card coalescing). With a
 * batch bound of one operation there are no lines: every operation runs by itself at once, as
 * before coalescing, and the row lock alone orders a card's calls.
 */
export class CardLines {
  private readonly queue: CoalescingQueue<CardOperation> | null;
  private readonly redemptionLines = new Map<string, CardLine>();

  constructor(bounds: BatchBounds) {
    this.queue = bounds.maxOperations > 1 ? new CoalescingQueue(runCardBatch, bounds) : null;
  }

  /** Calls waiting in a line for the transaction in flight on their card to end. */
  waiting(): number {
    return this.queue?.waiting() ?? 0;
  }

  /** The line a refund of this redemption joins, when this process made the redemption. */
  lineOfRedemption(entryPublicId: string): CardLine | undefined {
    return this.redemptionLines.get(entryPublicId);
  }

  remember(entryPublicId: string, line: CardLine): void {
    if (this.queue === null) return;
    this.redemptionLines.set(entryPublicId, line);
    if (this.redemptionLines.size > REMEMBERED_REDEMPTIONS) {
      const oldest = this.redemptionLines.keys().next();
      if (oldest.done !== true) this.redemptionLines.delete(oldest.value);
    }
  }

  /**
   * Runs `request` in its card's line: by itself at once when the line is idle, else in the next
   * batch. `alone` is how it runs by itself, in the calling context (its deadline, its caller).
   */
  run<R>(ctx: AppContext, line: CardLine, request: CardRequest, alone: () => Promise<R>): Promise<R> {
    if (this.queue === null) return alone();
    const queue = this.queue;
    // The call's context, for what runs later on its behalf: AsyncResource.bind would keep it too,
    // at about a hundred times the cost on Node 20 (it wraps each bound function in deprecation
    // shims), which this hot path would pay on every call.
    const call = new AsyncResource('card-operation');
    return new Promise<R>((resolve, reject) => {
      queue.add(line.id, {
        ctx,
        line,
        request,
        workByMs: currentWorkDeadline(),
        bytes: FIXED_OPERATION_BYTES + requestBytes(request),
        alone: () => call.runInAsyncScope(alone),
        inCallContext: (work) => call.runInAsyncScope(work),
        answer: resolve,
        fail: reject,
        redeemed: (entryPublicId) => {
          this.remember(entryPublicId, line);
        },
      });
    });
  }
}

/** The strings an operation sends along (its key, references, names), which its writes repeat. */
function requestBytes(request: CardRequest): number {
  if (request.kind === 'read') return 0;
  let bytes = request.key.key.length + request.key.scope.length;
  for (const value of Object.values(request.request.payload as object)) {
    if (typeof value === 'string') bytes += value.length;
  }
  return bytes;
}
