/** An outbox row the relay may publish: the event as it was encoded when its change committed. */
export interface PendingEvent {
  /** The row's id: ascending in the order a card's events were written. */
  readonly sequence: bigint;
  readonly eventId: string;
  readonly eventType: string;
  readonly payload: Buffer;
  readonly createdAt: Date;
}

/** How far the relays are behind: unsent rows (counted up to a cap) and the oldest one's age. */
export interface OutboxLag {
  readonly rows: number;
  /** True when there are at least as many rows as were counted. */
  readonly rowsCapped: boolean;
  readonly oldestCreatedAt: Date | null;
}

export interface SendResult {
  /** Unsent rows this relay locked. */
  readonly claimed: number;
  /** Of those, the ones published and marked sent; the rest wait for a card's earlier event. */
  readonly sent: number;
}

/** The outbox as the relay sees it (implemented in persistence/, over the event_outbox table). */
export interface OutboxQueue {
  /**
   * In one database transaction: locks up to `limit` unsent rows that no other relay holds, keeps
   * those whose card has no earlier unsent row it did not lock, hands them to `publish` in order,
   * and marks them sent once `publish` resolves. If `publish` throws, nothing is marked.
   */
  sendNext(limit: number, publish: (events: readonly PendingEvent[]) => Promise<void>): Promise<SendResult>;
  lag(): Promise<OutboxLag>;
}
